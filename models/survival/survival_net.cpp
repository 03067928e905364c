#include "models/survival/survival_net.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/survival/survival_table.h"
#include "framework/core/error.h"
#include "models/survival/brier.h"
#include "models/survival/concordance.h"

namespace tandem::models {
namespace {

/// Column k of float64 rows on the CPU.
std::vector<double> column(const torch::Tensor& rows, int64_t k) {
  auto c = rows.select(1, k).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// Every field of a batch on `device`.
Batch batch_on(const Batch& batch, const torch::Device& device) {
  Batch out{{}, batch.size};
  for (const auto& [name, t] : batch.fields) out.fields.emplace(name, t.to(device));
  return out;
}

}  // namespace

SurvivalNet::SurvivalNet(const SurvivalNetOptions& options, int64_t outputs) : options_(options), outputs_(outputs) {
  // Placeholders: prepare() (training) or a checkpoint (evaluation) gives the real shapes.
  net_ = register_module("net", build(1));
  mean_ = register_buffer("x_mean", torch::zeros({1}));
  scale_ = register_buffer("x_scale", torch::ones({1}));
  grid_ = register_buffer("time_grid", torch::zeros({1}));
  encoding_ = register_buffer("feature_encoding", torch::zeros({0}, torch::kUInt8));
  // The network's layout depends on the options only, so the best_* buffers
  // can be named now; prepare() or a checkpoint gives their shapes.
  for (auto& [name, tensor] : net_state()) {
    std::string key = "best_" + name;
    std::replace(key.begin(), key.end(), '.', '_');
    best_.emplace_back(name, register_buffer(key, torch::zeros_like(tensor)));
  }
  has_best_ = register_buffer("has_best", torch::zeros({}));
  best_loss_ = register_buffer("best_holdout_loss", torch::full({}, std::numeric_limits<double>::infinity(),
                                                                 torch::kFloat64));
}

std::vector<std::pair<std::string, torch::Tensor>> SurvivalNet::net_state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net_->named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : net_->named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

std::string SurvivalNet::feature_encoding() const {
  auto bytes = encoding_.to(torch::kCPU).contiguous();
  const auto* p = bytes.data_ptr<uint8_t>();
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(bytes.numel()));
}

bool SurvivalNet::has_best() const {
  // Asked on every evaluation forward: reading a GPU tensor would wait for the
  // device each time. In-place writes (fill_, a checkpoint's copy_, set_) move
  // the version counter; a swapped storage (set_data) changes the storage.
  const void* storage = has_best_.storage().unsafeGetStorageImpl();
  if (has_best_._version() != has_best_version_ || storage != has_best_storage_) {
    has_best_seen_ = has_best_.item<double>() > 0;
    has_best_version_ = has_best_._version();
    has_best_storage_ = storage;
  }
  return has_best_seen_;
}

double SurvivalNet::best_holdout_loss() const { return best_loss_.item<double>(); }

torch::nn::Sequential SurvivalNet::build(int64_t in_features) const {
  torch::nn::Sequential seq;
  int64_t width = in_features;
  for (int64_t h : options_.hidden) {
    seq->push_back(torch::nn::Linear(width, h));
    if (options_.activation == "selu") {
      seq->push_back(torch::nn::SELU());
    } else {
      seq->push_back(torch::nn::ReLU());
    }
    if (options_.batch_norm) seq->push_back(torch::nn::BatchNorm1d(h));
    if (options_.dropout > 0) seq->push_back(torch::nn::Dropout(options_.dropout));
    width = h;
  }
  seq->push_back(torch::nn::Linear(width, outputs_));
  return seq;
}

void SurvivalNet::prepare(const Dataset& train) {
  std::vector<int64_t> all(static_cast<std::size_t>(train.size()));
  for (int64_t i = 0; i < train.size(); ++i) all[static_cast<std::size_t>(i)] = i;
  const Batch b = batch_on(train.get(all), torch::kCPU);  // whole-split statistics on the CPU
  const auto& x = b.at("x");
  const torch::Device dev = device();                    // their results where the model is
  torch::NoGradGuard no_grad;
  if (options_.standardize) {
    // Indicator columns (only 0 and 1 in training) stay as they are, as pycox's
    // examples leave METABRIC's four binary columns; a constant column keeps
    // scale 1 rather than dividing by zero.
    auto binary = ((x == 0) | (x == 1)).all(0);
    auto sd = x.std(0, /*unbiased=*/false);
    mean_.set_(torch::where(binary, torch::zeros_like(sd), x.mean(0)).to(dev));
    scale_.set_(torch::where(binary | (sd <= 0), torch::ones_like(sd), sd).to(dev));
  } else {
    mean_.set_(torch::zeros({x.size(1)}, mean_.options()));
    scale_.set_(torch::ones({x.size(1)}, scale_.options()));
  }
  net_ = replace_module("net", build(x.size(1)));
  net_->to(dev);
  const auto state = net_state();
  for (std::size_t k = 0; k < best_.size(); ++k) best_[k].second.set_(state[k].second.detach().clone());
  has_best_.fill_(0);
  best_loss_.fill_(std::numeric_limits<double>::infinity());
  std::string text;
  if (const auto* table = dynamic_cast<const data::SurvivalTable*>(&train)) text = table->encoding().to_yaml();
  encoding_.set_(torch::from_blob(text.data(), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone().to(dev));
  prepare_grid(b.at("duration"), b.at("event"));
}

void SurvivalNet::refresh(const Dataset& train) {
  const auto* table = dynamic_cast<const data::SurvivalTable*>(&train);
  if (table == nullptr || !table->holdout() || table->holdout()->size() == 0) return;
  const auto& holdout = *table->holdout();
  std::vector<int64_t> all(static_cast<std::size_t>(holdout.size()));
  for (int64_t i = 0; i < holdout.size(); ++i) all[static_cast<std::size_t>(i)] = i;
  const Batch b = batch_on(holdout.get(all), device());  // a loss under the current weights: on the device
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  net_->eval();
  // The current weights, not forward(): that may already use the best ones.
  const double current = loss(b, net_->forward(inputs(b.at("x")))).item<double>();
  if (was_training) net_->train();
  if (!(current < best_loss_.item<double>())) return;
  best_loss_.fill_(current);
  const auto state = net_state();
  for (std::size_t k = 0; k < best_.size(); ++k) best_[k].second.copy_(state[k].second);
  has_best_.fill_(1);
}

torch::Tensor SurvivalNet::forward_best(const torch::Tensor& x) const {
  std::map<std::string, torch::Tensor> w(best_.begin(), best_.end());
  torch::Tensor h = x;
  int64_t k = 0;
  for (const auto& layer : net_->children()) {
    const std::string at = std::to_string(k++) + ".";
    if (layer->as<torch::nn::Linear>() != nullptr) {
      h = torch::nn::functional::linear(h, w.at(at + "weight"), w.at(at + "bias"));
    } else if (auto* bn = layer->as<torch::nn::BatchNorm1d>()) {
      h = torch::batch_norm(h, w.at(at + "weight"), w.at(at + "bias"), w.at(at + "running_mean"),
                            w.at(at + "running_var"), /*training=*/false, bn->options.momentum().value_or(0.1),
                            bn->options.eps(), /*cudnn_enabled=*/false);
    } else if (layer->as<torch::nn::ReLU>() != nullptr) {
      h = torch::relu(h);
    } else if (layer->as<torch::nn::SELU>() != nullptr) {
      h = torch::selu(h);
    }  // Dropout: the identity in evaluation mode.
  }
  return h;
}

void SurvivalNet::set_grid(const torch::Tensor& grid) {
  torch::NoGradGuard no_grad;
  grid_.set_(grid.to(grid_.device(), torch::kFloat32, /*non_blocking=*/false, /*copy=*/true).contiguous());
}

torch::Tensor SurvivalNet::inputs(const torch::Tensor& x) const {
  if (x.dim() != 2 || x.size(1) != mean_.size(0)) {
    throw BadInput(fmt::format("[survival] expected features [batch, {}] as in training, got shape {}",
                               mean_.size(0), c10::str(x.sizes())));
  }
  return (x - mean_) / scale_;
}

torch::Tensor SurvivalNet::forward(const Batch& batch) { return forward_features(batch.at("x")); }

torch::Tensor SurvivalNet::forward_features(const torch::Tensor& x) {
  if (!is_training() && has_best()) return forward_best(inputs(x));
  return net_->forward(inputs(x));
}

MetricSums SurvivalNet::metrics(const Batch& batch, const torch::Tensor& output) {
  const double n = static_cast<double>(batch.size);
  return {{"loss", {loss(batch, output).item<double>() * n, n}}};
}

torch::Tensor SurvivalNet::metric_rows(const Batch& batch, const torch::Tensor& output) {
  return torch::cat({batch.at("duration").unsqueeze(1), batch.at("event").unsqueeze(1), risk(output).unsqueeze(1),
                     survival(output)},
                    1)
      .to(torch::kFloat64);
}

std::map<std::string, double> SurvivalNet::whole_set_metrics(const torch::Tensor& device_rows) {
  const auto rows = device_rows.to(torch::kCPU, torch::kFloat64);  // read through host pointers below
  const auto durations = column(rows, 0);
  const auto event_values = column(rows, 1);
  const auto risk_values = column(rows, 2);
  std::vector<bool> events(event_values.size());
  for (std::size_t i = 0; i < events.size(); ++i) events[i] = event_values[i] > 0.5;
  auto grid = grid_.to(torch::kCPU, torch::kFloat64).contiguous();
  survival::SurvivalCurves curves;
  curves.linear = interpolates();
  curves.times.assign(grid.data_ptr<double>(), grid.data_ptr<double>() + grid.numel());
  auto s = rows.narrow(1, 3, rows.size(1) - 3).contiguous();
  curves.values.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  const auto scores = survival::ipcw_scores(durations, events, curves, survival::evaluation_grid(durations, 100));
  return {{"c_index", survival::harrell_concordance(durations, events, risk_values)},
          {"td_concordance", survival::antolini_concordance(durations, events, curves)},
          {"ibs", scores.integrated_brier},
          {"inbll", scores.integrated_nbll}};
}

}  // namespace tandem::models
