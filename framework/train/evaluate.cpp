#include "framework/train/evaluate.h"

#include "framework/train/device.h"
#include "framework/train/distributed_sampler.h"

namespace tandem {

MetricValues evaluate_model(Model& model, const Dataset& data, int64_t batch_size, dist::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const torch::Device device = module_device(model);  // batches go where the model is
  // Rank r evaluates positions r, r + N, ...: every sample exactly once.
  std::vector<int64_t> mine;
  for (int64_t i = comm.rank(); i < data.size(); i += comm.size()) mine.push_back(i);
  MetricSums totals;
  std::vector<torch::Tensor> rows;  // this rank's whole-set metric rows, in the order of `mine`
  for (int64_t begin = 0; begin < static_cast<int64_t>(mine.size()); begin += batch_size) {
    Batch batch = to_device(data.get(slice_indices(mine, begin, batch_size)), device);
    torch::Tensor out = model.forward(batch);
    for (const auto& [name, m] : model.metrics(batch, out)) {
      totals[name].sum += m.sum;
      totals[name].weight += m.weight;
    }
    torch::Tensor r = model.metric_rows(batch, out);
    if (r.defined()) rows.push_back(r.to(torch::kCPU, torch::kFloat64));  // whole_set_metrics reads host memory
  }
  torch::Tensor probe_rows;
  if (totals.empty()) {
    // A rank without samples still takes part in the reductions below, with zeros.
    Batch probe = to_device(data.get({0}), device);
    torch::Tensor out = model.forward(probe);
    for (const auto& kv : model.metrics(probe, out)) totals[kv.first] = {};
    probe_rows = model.metric_rows(probe, out);
    if (probe_rows.defined()) probe_rows = probe_rows.to(torch::kCPU, torch::kFloat64);
  }
  auto packed = torch::zeros({static_cast<int64_t>(2 * totals.size())}, torch::kFloat64);
  int64_t k = 0;
  for (const auto& kv : totals) {
    packed[k++] = kv.second.sum;
    packed[k++] = kv.second.weight;
  }
  comm.allreduce(packed)->wait();
  MetricValues values;
  k = 0;
  for (const auto& kv : totals) {
    const double sum = packed[k++].item<double>();
    const double weight = packed[k++].item<double>();
    values[kv.first] = weight > 0 ? sum / weight : 0.0;
  }
  // Whole-set metrics: each rank writes its rows at their dataset positions
  // into a zero matrix, so one sum-allreduce gives every rank all the rows in
  // dataset order (the shards do not overlap).
  const torch::Tensor& shape_source = rows.empty() ? probe_rows : rows.front();
  if (shape_source.defined()) {
    auto all = torch::zeros({data.size(), shape_source.size(1)}, torch::kFloat64);
    if (!rows.empty()) all.index_copy_(0, torch::tensor(mine, torch::kInt64), torch::cat(rows));
    comm.allreduce(all)->wait();
    for (const auto& [name, value] : model.whole_set_metrics(all)) values[name] = value;
  }
  for (const auto& [name, value] : model.derived_metrics(values)) values[name] = value;
  if (was_training) model.train();
  return values;
}

}  // namespace tandem
