#pragma once
/// Distributed evaluation: every rank evaluates its own share of a data set
/// (no sample twice) and the metrics are reduced across ranks.
#include <map>
#include <string>

#include "framework/dist/communicator.h"
#include "framework/train/dataset.h"
#include "framework/train/model.h"

namespace tandem {

using MetricValues = std::map<std::string, double>;

/// Metrics of `model` over all of `data` across the communicator's ranks, in
/// eval mode and without gradients. Keys are the model's metric names; the
/// model's whole-set metrics see every sample's row in dataset order.
MetricValues evaluate_model(Model& model, const Dataset& data, int64_t batch_size, dist::Communicator& comm);

/// The first `n` samples of a data set (trainer.val_samples).
class FirstSamples : public Dataset {
 public:
  FirstSamples(const Dataset& base, int64_t n) : base_(base), n_(std::min(n, base.size())) {}
  int64_t size() const override { return n_; }
  Batch get(const std::vector<int64_t>& indices) const override { return base_.get(indices); }

 private:
  const Dataset& base_;
  int64_t n_;
};

}  // namespace tandem
