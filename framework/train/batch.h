#pragma once
/// A batch of samples as named tensors, each with the batch as its first
/// dimension. Datasets produce them; models read the fields they know.
#include <torch/torch.h>

#include <map>
#include <stdexcept>
#include <string>

namespace tandem {

struct Batch {
  std::map<std::string, torch::Tensor> fields;
  int64_t size = 0;  ///< number of samples

  const torch::Tensor& at(const std::string& name) const {
    auto it = fields.find(name);
    if (it == fields.end()) throw std::out_of_range("batch has no field '" + name + "'");
    return it->second;
  }
};

}  // namespace tandem
