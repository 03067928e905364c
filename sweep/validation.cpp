#include "sweep/validation.h"

#include <fmt/format.h>

#include <cmath>

namespace tandem::sweep {
namespace {

constexpr double kGB = 1e9;
constexpr double kUs = 1e-6;
/// RDMA (InfiniBand, RoCE) moves large messages at about 95 % of line rate.
constexpr double kRdmaEfficiency = 0.95;

Network link(const char* name, double alpha_us, double gbytes_per_s) {
  return Network{name, alpha_us * kUs, 1.0 / (gbytes_per_s * kGB)};
}

/// DGX-1 with 8 V100 (NVLink) and 4 x 100 Gb/s InfiniBand per machine.
Cluster dgx1_v100() {
  return Cluster{"DGX-1 V100, 4x100 Gb/s IB", link("NVLink", 2, 130),
                 link("4x100 Gb/s IB", 5, 4 * 12.5 * kRdmaEfficiency), 8, AllreduceAlgorithm::kHierarchical};
}

/// 4 Pascal GPUs on PCIe per server, one 25 Gb/s RoCE NIC; NCCL 2 of 2017
/// runs one flat ring through every GPU.
Cluster pascal_pcie_roce25() {
  return Cluster{"4 Pascal/server, 25 Gb/s RoCE", link("PCIe 3.0", 2, 10),
                 link("25 Gb/s RoCE", 5, 3.125 * kRdmaEfficiency), 4, AllreduceAlgorithm::kFlatRing};
}

/// Big Basin: 8 P100 (NVLink) per server, 50 Gb/s Ethernet; Gloo's
/// recursive halving and doubling over TCP between servers.
Cluster big_basin_eth50() {
  return Cluster{"Big Basin 8 P100, 50 Gb/s Ethernet", link("NVLink P100", 2, 60), link("50 GbE TCP", 50, 6.25 * 0.7),
                 8, AllreduceAlgorithm::kHierarchical};
}

/// A CNN step: `params` fp32 gradients, `head_params` of them in the classifier.
StepModel cnn(double step_s, double params, double head_params, double bucket_bytes, Bucketing bucketing) {
  StepModel m;
  m.compute_s = step_s;
  m.bytes = 4 * params;
  m.head_fraction = head_params / params;
  m.bucket_bytes = bucket_bytes;
  m.bucketing = bucketing;
  return m;
}

const char* kPytorch = "PyTorch benchmarks/distributed/ddp/README.md (PyTorch 1.4, V100 DGX-1, 4x100 Gb/s IB, NCCL)";
const char* kHorovod128 = "Horovod docs/benchmarks (2017): 32 servers x 4 Pascal GPUs, 25 Gb/s RoCE";
const char* kHorovod512 = "Horovod README and Sergeev & Del Balso 2018: 128 servers x 4 Pascal GPUs, 25 Gb/s RoCE";
const char* kGoyal = "Goyal et al. 2017, Accurate, Large Minibatch SGD, sec. 5: ~90 % from 8 to 256 P100";

/// The PyTorch DDP rows: batch 32 per GPU, 25 MB buckets; efficiency is per-GPU
/// images/s against one GPU without DDP, so DDP's own cost on one GPU (329 ->
/// 319 images/s) is part of every row.
void pytorch_rows(std::vector<PublishedRow>& rows) {
  const double overhead = 329.0 / 319.0 - 1;
  auto r50 = cnn(32 / 329.0, 25.6e6, 2.05e6, 25e6, Bucketing::kStatic);
  r50.dp_overhead = overhead;
  const int workers[] = {2, 4, 8, 16};
  const double per_gpu[] = {310, 310, 307, 306};
  for (int k = 0; k < 4; ++k) {
    rows.push_back({fmt::format("PyTorch DDP, ResNet-50, {} V100", workers[k]), kPytorch, workers[k], 1,
                    per_gpu[k] / 329.0, r50, dgx1_v100()});
  }
  auto r101 = cnn(32 / 197.0, 44.5e6, 2.05e6, 25e6, Bucketing::kStatic);
  r101.dp_overhead = overhead;
  rows.push_back({"PyTorch DDP, ResNet-101, 16 V100", kPytorch, 16, 1, 178 / 197.0, r101, dgx1_v100()});
}

/// The Horovod rows: tf_cnn_benchmarks, batch 64 per GPU, 64 MB fusion buffer.
/// Step times from TensorFlow's published P100 single-GPU images/s at batch 64
/// (InceptionV3 142, VGG16 154; ResNet-101 129, between ResNet-50's 219 and
/// ResNet-152's 91.8 by FLOPs).
void horovod_rows(std::vector<PublishedRow>& rows) {
  const auto inception = cnn(64 / 142.0, 23.8e6, 2.05e6, 64e6, Bucketing::kDynamicFusion);
  const auto resnet101 = cnn(64 / 129.0, 44.5e6, 2.05e6, 64e6, Bucketing::kDynamicFusion);
  const auto vgg16 = cnn(64 / 154.0, 138.4e6, 123.6e6, 64e6, Bucketing::kDynamicFusion);
  for (int gpus : {128, 512}) {
    const char* source = gpus == 128 ? kHorovod128 : kHorovod512;
    rows.push_back({fmt::format("Horovod, Inception V3, {} GPUs", gpus), source, gpus, 1, 0.90, inception,
                    pascal_pcie_roce25()});
    rows.push_back({fmt::format("Horovod, ResNet-101, {} GPUs", gpus), source, gpus, 1, 0.90, resnet101,
                    pascal_pcie_roce25()});
    rows.push_back({fmt::format("Horovod, VGG-16, {} GPUs", gpus), source, gpus, 1, gpus == 128 ? 0.79 : 0.68, vgg16,
                    pascal_pcie_roce25()});
  }
}

}  // namespace

std::vector<PublishedRow> published_rows() {
  std::vector<PublishedRow> rows;
  pytorch_rows(rows);
  horovod_rows(rows);
  // Caffe2 all-reduces each of ResNet-50's 161 parameter tensors as its
  // gradient is ready. Step: 90 epochs of 1.28 M images at 256 per step took
  // 29 hours on 8 GPUs: 0.232 s.
  const double params = 25.6e6;
  const auto r50 = cnn(29 * 3600.0 / (90 * 1281167.0 / 256), params, 2.05e6, 4 * params / 161, Bucketing::kStatic);
  rows.push_back({"Goyal et al., ResNet-50, 256 P100 vs 8", kGoyal, 256, 8, 0.90, r50, big_basin_eth50()});
  return rows;
}

std::string validation_table(const std::vector<PublishedRow>& rows) {
  std::string md = "| setup | network | published | projected | difference |\n|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const double p = relative_efficiency(r.step, r.cluster, r.workers, r.base_workers);
    md += fmt::format("| {} | {} | {:.1f} % | {:.1f} % | {:+.1f} |\n", r.name, r.cluster.name, 100 * r.published,
                      100 * p, 100 * (p - r.published));
  }
  return md;
}

}  // namespace tandem::sweep
