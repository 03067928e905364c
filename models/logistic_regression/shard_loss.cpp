#include "models/logistic_regression/shard_loss.h"

#include <fmt/format.h>

namespace tandem::models {

ShardLoss::ShardLoss(torch::Tensor x, torch::Tensor y, bool intercept, int64_t global_rows, dist::Communicator& comm,
                     int64_t block_rows, double hessian_sample)
    : x_(std::move(x)),
      y_(std::move(y)),
      intercept_(intercept),
      d_(x_.size(1)),
      global_rows_(global_rows),
      block_rows_(block_rows),
      hessian_every_(std::max<int64_t>(1, std::llround(1.0 / std::clamp(hessian_sample, 1e-6, 1.0)))),
      comm_(comm) {
  if (x_.scalar_type() != torch::kFloat64 || !x_.is_contiguous() || y_.scalar_type() != torch::kFloat64 ||
      y_.size(0) != x_.size(0)) {
    throw std::invalid_argument("ShardLoss: expected contiguous float64 x [n, d] and y [n]");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const int64_t b = std::max<int64_t>(1, std::min(block_rows_, x_.size(0)));
  beta_ = torch::zeros({d_}, f64);
  z_ = torch::empty({b}, f64);
  e_ = torch::empty({b}, f64);
  l1p_ = torch::empty({b}, f64);
  r_ = torch::empty({b}, f64);
  wt_ = torch::empty({b}, f64);
  xw_ = torch::empty({b, d_}, f64);
  hess_block_ = torch::empty({d_, d_}, f64);
  xw_sum_ = torch::empty({d_}, f64);
  const int64_t p = dim();
  packed_ = torch::zeros({1 + p + p * p}, f64);
}

void ShardLoss::sums(const double* w, bool want_grad, bool want_hess) {
  const int64_t p = dim();
  std::copy(w, w + d_, beta_.data_ptr<double>());
  const double b = intercept_ ? w[d_] : 0.0;
  packed_.zero_();
  double* packed = packed_.data_ptr<double>();
  // Views into packed_: the feature gradient and the feature-by-feature Hessian block.
  auto grad_beta = packed_.narrow(0, 1, d_);
  auto hess = packed_.narrow(0, 1 + p, p * p).view({p, p});
  auto hess_beta = hess.narrow(0, 0, d_).narrow(1, 0, d_);  // strided: rows of length p
  hess_block_.zero_();
  xw_sum_.zero_();

  double loss = 0, r_sum = 0, wt_sum = 0;
  const int64_t n = x_.size(0);
  int64_t hessian_rows = 0;
  for (int64_t a = 0, block = 0; a < n; a += block_rows_, ++block) {
    const int64_t m = std::min(block_rows_, n - a);
    const bool block_hess = want_hess && block % hessian_every_ == 0;
    if (block_hess) hessian_rows += m;
    auto xb = x_.narrow(0, a, m);
    auto z = z_.narrow(0, 0, m), e = e_.narrow(0, 0, m), l1p = l1p_.narrow(0, 0, m);
    auto r = r_.narrow(0, 0, m), wt = wt_.narrow(0, 0, m);
    at::mv_out(z, xb, beta_);
    if (b != 0.0) z.add_(b);
    // Elementwise work in LibTorch's vectorised kernels (AVX2/AVX-512 chosen at
    // run time), on block-sized buffers that stay in cache:
    //   log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))   (no overflow for any z)
    auto yb = y_.narrow(0, a, m);
    at::abs_out(e, z);
    e.neg_();
    e.exp_();
    at::log1p_out(l1p, e);
    at::clamp_min_out(r, z, 0.0);  // r as scratch: max(z, 0)
    loss += r.sum().item<double>() + l1p.sum().item<double>() - at::dot(yb, z).item<double>();
    at::sigmoid_out(e, z);  // e now holds p = sigmoid(z)
    at::sub_out(r, e, yb);  // r = p - y
    if (intercept_ && want_grad) r_sum += r.sum().item<double>();
    if (block_hess) {
      at::mul_out(wt, e, e);
      at::sub_out(wt, e, wt);  // p (1 - p)
      if (intercept_) wt_sum += wt.sum().item<double>();
    }
    if (want_grad) at::addmv_out(grad_beta, grad_beta, xb.t(), r);
    if (block_hess) {
      auto xw = xw_.narrow(0, 0, m);
      at::mul_out(xw, xb, wt.unsqueeze(1));
      at::addmm_out(hess_block_, hess_block_, xb.t(), xw);
      if (intercept_) at::addmv_out(xw_sum_, xw_sum_, xb.t(), wt);
    }
  }
  packed[0] = loss;
  if (want_grad && intercept_) packed[1 + d_] = r_sum;
  if (want_hess && hessian_rows > 0 && hessian_rows < n) {  // sub-sampled: scale up to the shard
    const double up = static_cast<double>(n) / static_cast<double>(hessian_rows);
    hess_block_.mul_(up);
    xw_sum_.mul_(up);
    wt_sum *= up;
  }
  if (want_hess) {
    hess_beta.copy_(hess_block_);
    if (intercept_) {
      double* h = packed + 1 + p;
      const double* s = xw_sum_.data_ptr<double>();
      for (int64_t j = 0; j < d_; ++j) h[j * p + d_] = h[d_ * p + j] = s[j];
      h[d_ * p + d_] = wt_sum;
    }
  }
}

double ShardLoss::local(const double* w, double* grad, double* hess) {
  sums(w, grad != nullptr, hess != nullptr);
  return unpack_means(grad, hess);
}

double ShardLoss::mean(const double* w, double* grad, double* hess) {
  sums(w, grad != nullptr, hess != nullptr);
  // Only the parts asked for travel (the Hessian is most of the message).
  const int64_t p = dim();
  const int64_t count = hess ? 1 + p + p * p : (grad ? 1 + p : 1);
  auto message = packed_.narrow(0, 0, count);
  comm_.allreduce(message)->wait();
  return unpack_means(grad, hess);
}

double ShardLoss::unpack_means(double* grad, double* hess) const {
  const int64_t p = dim();
  const double inv = 1.0 / static_cast<double>(global_rows_);
  const double* s = packed_.data_ptr<double>();
  if (grad)
    for (int64_t j = 0; j < p; ++j) grad[j] = s[1 + j] * inv;
  if (hess)
    for (int64_t j = 0; j < p * p; ++j) hess[j] = s[1 + p + j] * inv;
  return s[0] * inv;
}

void ShardLoss::allreduce_sum(Vec& v) {
  auto t = torch::from_blob(v.data(), {static_cast<int64_t>(v.size())}, torch::kFloat64).clone();
  comm_.allreduce(t)->wait();
  std::copy(t.data_ptr<double>(), t.data_ptr<double>() + t.numel(), v.data());
}

void ShardLoss::margins(const double* w, torch::Tensor& out) {
  std::copy(w, w + d_, beta_.data_ptr<double>());
  at::mv_out(out, x_, beta_);
  if (intercept_) out.add_(w[d_]);
}

}  // namespace tandem::models
