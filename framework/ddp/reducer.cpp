#include "framework/ddp/reducer.h"

#include <fmt/format.h>

#include <chrono>

namespace tandem::ddp {

Reducer::Reducer(std::vector<torch::Tensor> params, std::vector<std::string> names, dist::Communicator& comm,
                 const BucketPlanOptions& options)
    : params_(std::move(params)), names_(std::move(names)), comm_(comm) {
  std::vector<ParamInfo> info;
  for (const auto& p : params_) {
    if (p.is_sparse()) throw std::invalid_argument("[ddp] sparse parameters are not supported");
    info.push_back({p.numel(), static_cast<int64_t>(p.element_size()),
                    fmt::format("{}/{}", c10::toString(p.scalar_type()), p.device().str())});
  }
  plan_ = plan_buckets(info, options);
  bucket_of_.resize(params_.size());
  slot_of_.resize(params_.size());
  ready_.assign(params_.size(), 0);
  for (std::size_t b = 0; b < plan_.size(); ++b) {
    Bucket bucket;
    bucket.members = plan_[b];
    int64_t total = 0;
    for (std::size_t i : bucket.members) total += params_[i].numel();
    const auto& first = params_[bucket.members.front()];
    bucket.flat = torch::zeros({total}, first.options().requires_grad(false));
    int64_t offset = 0;
    for (std::size_t j = 0; j < bucket.members.size(); ++j) {
      const auto& p = params_[bucket.members[j]];
      bucket.views.push_back(bucket.flat.narrow(0, offset, p.numel()).view(p.sizes()));
      bucket_of_[bucket.members[j]] = b;
      slot_of_[bucket.members[j]] = j;
      offset += p.numel();
    }
    counters_.bytes_per_step += total * static_cast<int64_t>(first.element_size());
    buckets_.push_back(std::move(bucket));
  }
  counters_.buckets = static_cast<int64_t>(buckets_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    bind_grad(i);
    hooks_.push_back(std::make_unique<GradReadyHook>(params_[i], [this, i] { on_grad_ready(i); }));
  }
}

void Reducer::bind_grad(std::size_t i) {
  const auto& view = buckets_[bucket_of_[i]].views[slot_of_[i]];
  auto& grad = params_[i].mutable_grad();
  if (grad.defined() && grad.is_same(view)) return;
  // The optimizer (or the user) replaced or dropped the gradient: copy what it
  // holds into the bucket and point the parameter back at its view.
  if (grad.defined()) {
    torch::NoGradGuard no_grad;
    view.copy_(grad);
  } else {
    view.zero_();
  }
  grad = view;
}

void Reducer::zero_grad() {
  for (auto& bucket : buckets_) bucket.flat.zero_();
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

void Reducer::on_grad_ready(std::size_t i) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_) {
    bind_grad(i);  // accumulate locally; a later synchronised backward reduces the sum
    return;
  }
  if (!in_backward_) {
    in_backward_ = true;
    next_to_launch_ = 0;
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
  bind_grad(i);
  if (ready_[i]) return;  // a second accumulation into the same grad in one pass
  ready_[i] = 1;
  if (--buckets_[bucket_of_[i]].pending == 0) launch_ready_buckets();
}

void Reducer::launch_ready_buckets() {
  // Buckets start strictly in plan order so that every rank issues the same
  // sequence of collectives, whatever order its gradients arrived in.
  const int world = comm_.size();
  while (next_to_launch_ < buckets_.size() && buckets_[next_to_launch_].pending == 0) {
    Bucket& bucket = buckets_[next_to_launch_];
    if (world > 1) {
      bucket.flat.div_(world);  // average as a sum of pre-divided gradients
      bucket.work = comm_.allreduce(bucket.flat);
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
    throw std::runtime_error(fmt::format(
        "[ddp] rank {}: these parameters got no gradient in this backward pass: {}. Every parameter that "
        "requires grad must contribute to the loss on every step, or set ddp.find_unused_parameters: true",
        comm_.rank(), missing));
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto& bucket : buckets_) {
    if (bucket.work) bucket.work->wait();
    bucket.work.reset();
  }
  counters_.exposed_comm_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++counters_.steps;
}

}  // namespace tandem::ddp
