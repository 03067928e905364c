#include "data/logistic/labelled_rows.h"

namespace tandem::data {

Batch LabelledRows::get(const std::vector<int64_t>& indices) const {
  const auto b = static_cast<int64_t>(indices.size());
  const int64_t d = features();
  auto x = torch::empty({b, d}, torch::kFloat64);
  auto y = torch::empty({b}, torch::kFloat64);
  double* xp = x.data_ptr<double>();
  double* yp = y.data_ptr<double>();
  for (int64_t i = 0; i < b; ++i) fill(indices[i], indices[i] + 1, xp + i * d, yp + i);
  Batch batch;
  batch.size = b;
  batch.fields["x"] = x;
  batch.fields["y"] = y;
  return batch;
}

std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int world) {
  // n * rank fits in int64 for any table that fits in memory.
  return {n * rank / world, n * (rank + 1) / world};
}

}  // namespace tandem::data
