#include "framework/train/precision.h"

#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/dist/torch_compat.h"

namespace tandem {

MixedPrecision::MixedPrecision(const std::string& precision, const torch::Device& device)
    : name_(precision), device_(device) {
  if (precision == "32") return;
  if (precision == "bf16-mixed") {
    autocast_ = true;
    dtype_ = at::kBFloat16;
  } else if (precision == "16-mixed") {
    if (!device.is_cuda()) {
      throw BadInput(fmt::format("trainer.precision: expected 32 or bf16-mixed on {} (16-mixed needs a CUDA device), "
                                 "got 16-mixed",
                                 device.str()));
    }
    autocast_ = true;
    dtype_ = at::kHalf;
    scaler_.emplace(device);
  } else {
    throw BadInput(fmt::format("trainer.precision: expected 32, bf16-mixed or 16-mixed, got '{}'", precision));
  }
}

MixedPrecision::Autocast::Autocast(const MixedPrecision& p) : active_(p.autocast_), type_(p.device_.type()) {
  if (!active_) return;
  const auto before = dist::compat::autocast_state(type_);
  enabled_before_ = before.enabled;
  dtype_before_ = before.dtype;
  at::autocast::increment_nesting();
  dist::compat::set_autocast_state(type_, {true, p.dtype_});
}

MixedPrecision::Autocast::~Autocast() {
  if (!active_) return;
  // As torch.autocast's exit: the cast cache lives for the outermost region.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  dist::compat::set_autocast_state(type_, {enabled_before_, dtype_before_});
}

bool LossScaler::unscale_and_update(const std::vector<torch::Tensor>& grads) {
  torch::NoGradGuard no_grad;
  const double inverse = 1.0 / state_.scale;
  // One flag on the device, read once: the only host synchronisation of a step.
  torch::Tensor non_finite = torch::zeros({}, torch::TensorOptions().dtype(torch::kBool).device(device_));
  for (const auto& g : grads) {
    if (!g.defined()) continue;
    g.mul_(inverse);
    non_finite.logical_or_(torch::logical_not(torch::isfinite(g).all()));
  }
  const bool finite = !non_finite.item<bool>();
  if (!finite) {
    state_.scale *= kBackoff;
    state_.good_steps = 0;
    ++state_.skipped_steps;
  } else if (++state_.good_steps == kGrowthInterval) {
    state_.scale *= kGrowth;
    state_.good_steps = 0;
  }
  return finite;
}

}  // namespace tandem
