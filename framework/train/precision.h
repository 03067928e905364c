#pragma once
/// trainer.precision, as Lightning names it: 32 (float32), bf16-mixed (forward
/// and loss under bfloat16 autocast) and 16-mixed (float16 autocast with
/// dynamic loss scaling, as PyTorch's GradScaler). Weights, gradients and the
/// optimizer stay float32 in every mode.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "framework/train/position.h"  // LossScale

namespace tandem {

/// Dynamic loss scaling (torch.amp.GradScaler's rule) on any device.
class LossScaler {
 public:
  explicit LossScaler(const torch::Device& device) : device_(device) {}
  /// The loss that backward starts from: the loss times the scale.
  torch::Tensor scaled(const torch::Tensor& loss) const { return loss * state_.scale; }
  /// After backward, gradients all-reduced: divides them by the scale and
  /// says whether every one is finite. Not finite: skip the optimizer step
  /// (every rank holds the same reduced gradients, so every rank skips).
  /// Then updates the scale: halved after a non-finite step, doubled after
  /// kGrowthInterval finite ones in a row.
  bool unscale_and_update(const std::vector<torch::Tensor>& grads);

  const LossScale& state() const { return state_; }
  void restore(const LossScale& state) { state_ = state; }

  static constexpr double kGrowth = 2.0;
  static constexpr double kBackoff = 0.5;
  static constexpr int64_t kGrowthInterval = 2000;  ///< as torch.amp.GradScaler

 private:
  torch::Device device_;
  LossScale state_;
};

class MixedPrecision {
 public:
  /// BadInput naming trainer.precision for a mode the device cannot run
  /// (16-mixed needs CUDA).
  MixedPrecision(const std::string& precision, const torch::Device& device);

  /// Forward and loss under autocast while it lives (nothing for 32).
  class Autocast {
   public:
    explicit Autocast(const MixedPrecision& p);
    ~Autocast();
    Autocast(const Autocast&) = delete;
    Autocast& operator=(const Autocast&) = delete;

   private:
    bool active_;
    c10::DeviceType type_;
    bool enabled_before_;
    at::ScalarType dtype_before_;
  };
  Autocast autocast() const { return Autocast(*this); }

  /// The loss scaler of 16-mixed; null in the other modes.
  LossScaler* scaler() { return scaler_ ? &*scaler_ : nullptr; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  torch::Device device_;
  bool autocast_ = false;
  at::ScalarType dtype_ = at::kFloat;
  std::optional<LossScaler> scaler_;
};

}  // namespace tandem
