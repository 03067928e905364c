#include "framework/ddp/reducer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "framework/core/error.h"

namespace tandem::ddp {

Reducer::Reducer(std::vector<torch::Tensor> params, std::vector<std::string> names, dist::Communicator& comm,
                 const BucketPlanOptions& options, bool rebuild_buckets)
    : params_(std::move(params)),
      names_(std::move(names)),
      comm_(comm),
      options_(options),
      hook_(make_allreduce_hook()),
      rebuild_enabled_(rebuild_buckets) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    if (p.is_sparse()) {
      throw std::invalid_argument(fmt::format("[ddp] parameter {} is a sparse tensor; DDP needs dense parameters "
                                              "(sparse gradients of dense parameters are fine)", names_[i]));
    }
    info_.push_back({p.numel(), static_cast<int64_t>(p.element_size()),
                     fmt::format("{}/{}", c10::toString(p.scalar_type()), p.device().str())});
  }
  build({});
  for (std::size_t i = 0; i < params_.size(); ++i) {
    bind_grad(i);
    hooks_.push_back(std::make_unique<GradReadyHook>(params_[i], [this, i] { on_grad_ready(i); }));
  }
}

void Reducer::build(const std::vector<std::size_t>& order) {
  plan_ = plan_buckets(info_, options_, order);
  buckets_.clear();
  bucket_of_.assign(params_.size(), 0);
  slot_of_.assign(params_.size(), 0);
  ready_.assign(params_.size(), 0);
  counters_.bytes_per_step = 0;
  for (std::size_t b = 0; b < plan_.size(); ++b) {
    Bucket bucket;
    bucket.members = plan_[b];
    int64_t total = 0;
    for (std::size_t i : bucket.members) total += params_[i].numel();
    const auto& first = params_[bucket.members.front()];
    bucket.grad.index = b;
    bucket.grad.flat = torch::zeros({total}, first.options().requires_grad(false));
    int64_t offset = 0;
    for (std::size_t j = 0; j < bucket.members.size(); ++j) {
      const auto& p = params_[bucket.members[j]];
      // The gradient keeps the parameter's memory layout where that layout is
      // dense (a transposed weight, say), as autograd's layout contract asks;
      // otherwise it is contiguous.
      bucket.views.push_back(p.is_non_overlapping_and_dense()
                                 ? bucket.grad.flat.as_strided(p.sizes(), p.strides(), offset)
                                 : bucket.grad.flat.narrow(0, offset, p.numel()).view(p.sizes()));
      bucket_of_[bucket.members[j]] = b;
      slot_of_[bucket.members[j]] = j;
      offset += p.numel();
    }
    counters_.bytes_per_step += hook_->payload_bytes(bucket.grad);
    buckets_.push_back(std::move(bucket));
  }
  counters_.buckets = static_cast<int64_t>(buckets_.size());
}

void Reducer::register_comm_hook(std::unique_ptr<CommHook> hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  TANDEM_CHECK(!in_backward_ && counters_.steps == 0, "ddp", "register_comm_hook must be called before the first backward");
  hook_ = std::move(hook);
  counters_.bytes_per_step = 0;
  for (const auto& bucket : buckets_) counters_.bytes_per_step += hook_->payload_bytes(bucket.grad);
}

void Reducer::bind_grad(std::size_t i) {
  const auto& view = buckets_[bucket_of_[i]].views[slot_of_[i]];
  auto& grad = params_[i].mutable_grad();
  if (grad.defined() && grad.is_same(view)) return;
  // The optimizer (or the user) replaced or dropped the gradient, or a sparse
  // gradient arrived first: copy what it holds into the bucket and point the
  // parameter back at its view.
  torch::NoGradGuard no_grad;
  if (grad.defined()) {
    view.copy_(grad.is_sparse() ? grad.to_dense() : grad);
  } else {
    view.zero_();
  }
  grad = view;
}

void Reducer::zero_grad() {
  for (auto& bucket : buckets_) bucket.grad.flat.zero_();
  for (std::size_t i = 0; i < params_.size(); ++i) bind_grad(i);
}

void Reducer::prepare_for_backward(const std::vector<torch::Tensor>& outputs) {
  const auto reached = reachable_nodes(outputs);
  std::lock_guard<std::mutex> lock(mutex_);
  unused_.clear();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!reached.count(hooks_[i]->accumulator())) unused_.push_back(i);
  }
}

void Reducer::check_parameters_attached() const {
  std::string detached;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!hooks_[i]->attached_to(params_[i])) detached += (detached.empty() ? "" : ", ") + names_[i];
  }
  if (!detached.empty()) {
    throw std::logic_error(fmt::format(
        "[ddp] rank {}: these parameters were replaced after DDP wrapped the model, so their gradients would no "
        "longer be reduced: {}. Load state before wrapping, or copy into the parameters (Tandem's "
        "load_model_state does) instead of swapping them (Module::load, Tensor::set_)",
        comm_.rank(), detached));
  }
}

void Reducer::rebuild_buckets_if_due() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!rebuild_due_) return;
  rebuild_due_ = false;
  // Every rank takes rank 0's order, so all ranks issue the same collectives.
  auto order = torch::empty({static_cast<int64_t>(arrival_.size())}, torch::kLong);
  for (std::size_t k = 0; k < arrival_.size(); ++k) order[static_cast<int64_t>(k)] = static_cast<int64_t>(arrival_[k]);
  if (comm_.size() > 1) comm_.broadcast(order, 0)->wait();
  std::vector<std::size_t> sequence(arrival_.size());
  for (std::size_t k = 0; k < sequence.size(); ++k) sequence[k] = static_cast<std::size_t>(order[k].item<int64_t>());
  arrival_.clear();

  std::vector<torch::Tensor> kept;  // gradients accumulated so far (no_sync) survive the rebuild
  for (auto& p : params_) kept.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  build(sequence);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& view = buckets_[bucket_of_[i]].views[slot_of_[i]];
    if (kept[i].defined()) view.copy_(kept[i]);
    params_[i].mutable_grad() = view;
  }
  ++counters_.rebuilds;
}

void Reducer::on_grad_ready(std::size_t i) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_) {
    bind_grad(i);  // accumulate locally; a later synchronised backward reduces the sum
    return;
  }
  if (!in_backward_) {
    in_backward_ = true;
    next_to_launch_ = 0;
    first_launch_.reset();
    std::fill(ready_.begin(), ready_.end(), 0);
    for (auto& bucket : buckets_) {
      bucket.pending = bucket.members.size();
      bucket.work.reset();
    }
    queue_end_of_backward([this] { finalize(); });
    // Parameters this step's graph does not reach keep their (zero or
    // accumulated) gradient and count as ready at once.
    for (std::size_t u : unused_) {
      bind_grad(u);
      ready_[u] = 1;
      --buckets_[bucket_of_[u]].pending;
    }
    unused_.clear();
    launch_ready_buckets();
  }
  if (ready_[i]) {
    // Its bucket may already be reducing: the second gradient would race the
    // allreduce or be lost. c10d refuses it too ("mark a variable ready only once").
    throw std::logic_error(fmt::format(
        "[ddp] rank {}: parameter {} received a second gradient in one backward pass, after it was marked ready "
        "for reduction (reentrant backward, such as activation checkpointing, or a parameter the step's graph was "
        "not expected to reach); run all but the last backward of a step under no_sync()",
        comm_.rank(), names_[i]));
  }
  bind_grad(i);
  ready_[i] = 1;
  if (rebuild_enabled_ && counters_.rebuilds == 0 && counters_.steps == 0) arrival_.push_back(i);
  if (--buckets_[bucket_of_[i]].pending == 0) launch_ready_buckets();
}

void Reducer::launch_ready_buckets() {
  // Buckets start strictly in plan order so that every rank issues the same
  // sequence of collectives, whatever order its gradients arrived in.
  const bool communicate = comm_.size() > 1;
  while (next_to_launch_ < buckets_.size() && buckets_[next_to_launch_].pending == 0) {
    Bucket& bucket = buckets_[next_to_launch_];
    if (communicate) {
      if (!first_launch_) first_launch_ = comm_.mark(bucket.grad.flat);
      torch::NoGradGuard no_grad;
      bucket.work = hook_->launch(bucket.grad, comm_);
    }
    ++next_to_launch_;
  }
}

void Reducer::finalize() {
  std::lock_guard<std::mutex> lock(mutex_);
  in_backward_ = false;
  if (next_to_launch_ < buckets_.size()) {
    std::string missing;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!ready_[i]) missing += (missing.empty() ? "" : ", ") + names_[i];
    }
    arrival_.clear();
    throw std::runtime_error(fmt::format(
        "[ddp] rank {}: these parameters got no gradient in this backward pass: {}. Every parameter that "
        "requires grad must contribute to the loss on every step, or set ddp.find_unused_parameters: true",
        comm_.rank(), missing));
  }
  if (first_launch_) {
    // Each mark is on the gradients' timeline: the host's clock, or the
    // compute stream (and NCCL's end on a side stream) on a GPU.
    const torch::Tensor& where = buckets_.front().grad.flat;
    StepTiming timing{first_launch_, comm_.mark(where), nullptr, {}};
    for (auto& bucket : buckets_) {
      if (!bucket.work) continue;
      bucket.work->wait();
      auto done = bucket.work->completion();
      timing.done.push_back(done ? std::move(done) : comm_.mark(where));
    }
    timing.waited = comm_.mark(where);
    timings_.push_back(std::move(timing));
  }
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    if (bucket.work) hook_->finish(bucket.grad, comm_);
    bucket.work.reset();
  }
  settle_timings(false);
  ++counters_.steps;
  if (rebuild_enabled_ && counters_.rebuilds == 0 && arrival_.size() == params_.size()) rebuild_due_ = true;
}

void Reducer::settle_timings(bool block) {
  while (!timings_.empty()) {
    const StepTiming& t = timings_.front();
    const auto reached = [](const auto& mark) { return mark->reached(); };
    if (!block && !(t.waited->reached() && std::all_of(t.done.begin(), t.done.end(), reached))) return;
    // What backward's end waited for: communication the step did not hide.
    counters_.exposed_comm_s += std::max(0.0, t.waited->seconds_since(*t.backward_end));
    double span = 0.0;  // from the first launch to the last collective's end
    for (const auto& done : t.done) span = std::max(span, done->seconds_since(*t.first_launch));
    counters_.comm_s += span;
    timings_.pop_front();
  }
}

const DdpCounters& Reducer::counters() {
  std::lock_guard<std::mutex> lock(mutex_);
  settle_timings(true);
  return counters_;
}

}  // namespace tandem::ddp
