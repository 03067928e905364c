#include "framework/train/weight_average.h"

#include <cmath>

#include "framework/core/error.h"

namespace tandem {

WeightAverage::WeightAverage(std::vector<torch::Tensor> parameters, int64_t start_step)
    : live_(std::move(parameters)), start_step_(start_step) {}

int64_t WeightAverage::start_step_for(double from, int64_t planned_steps) {
  if (from <= 0) return -1;
  return static_cast<int64_t>(std::ceil(from * static_cast<double>(planned_steps)));
}

void WeightAverage::update(int64_t global_step) {
  if (!enabled() || global_step <= start_step_) return;
  torch::NoGradGuard no_grad;
  if (mean_.empty()) {
    for (const auto& p : live_) mean_.push_back(p.detach().clone());
    count_ = 1;
    return;
  }
  ++count_;
  const double share = 1.0 / static_cast<double>(count_);
  for (std::size_t i = 0; i < live_.size(); ++i) mean_[i].add_(live_[i].detach() - mean_[i], share);
}

void WeightAverage::swap() {
  TANDEM_CHECK(active(), "train", "no averaged weights to swap in yet");
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < live_.size(); ++i) {
    auto held = live_[i].detach().clone();
    live_[i].detach().copy_(mean_[i]);
    mean_[i].copy_(held);
  }
}

void WeightAverage::restore(const std::vector<torch::Tensor>& training, int64_t count) {
  TANDEM_CHECK(training.size() == live_.size(), "train", "{} training weights for {} parameters", training.size(),
               live_.size());
  torch::NoGradGuard no_grad;
  mean_.clear();
  count_ = 0;
  for (std::size_t i = 0; i < live_.size(); ++i) {
    if (enabled()) mean_.push_back(live_[i].detach().clone());  // else the mean is dropped: training goes on
    live_[i].detach().copy_(training[i]);
  }
  if (enabled()) count_ = count;
}

}  // namespace tandem
