#include "data/survival/survival_table.h"

#include <stdexcept>

#include "framework/core/error.h"

namespace tandem::data {

SurvivalTable::SurvivalTable(torch::Tensor x, torch::Tensor duration, torch::Tensor event, torch::Tensor true_risk,
                             std::vector<std::string> feature_names)
    : x_(x.to(torch::kFloat32).contiguous()),
      duration_(duration.to(torch::kFloat32).contiguous()),
      event_(event.to(torch::kFloat32).contiguous()),
      feature_names_(std::move(feature_names)),
      encoding_(FeatureEncoding::numeric(feature_names_)) {
  const int64_t n = duration_.size(0);
  TANDEM_CHECK(x_.dim() == 2 && x_.size(0) == n && event_.size(0) == n, "data",
               "SurvivalTable: x must be [n, p] and duration, event [n]");
  if (true_risk.defined()) true_risk_ = true_risk.to(torch::kFloat32).contiguous();
}

Batch SurvivalTable::get(const std::vector<int64_t>& indices) const {
  auto i = torch::tensor(indices, torch::kInt64);
  Batch b;
  b.size = static_cast<int64_t>(indices.size());
  b.fields["x"] = x_.index_select(0, i);
  b.fields["duration"] = duration_.index_select(0, i);
  b.fields["event"] = event_.index_select(0, i);
  if (true_risk_.defined()) b.fields["true_risk"] = true_risk_.index_select(0, i);
  return b;
}

}  // namespace tandem::data
