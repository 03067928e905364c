#pragma once
/// The projection against published multi-GPU results: each row is a system
/// someone measured (model, per-GPU step time, network, bucketing) and the
/// scaling efficiency they reported. docs/sweep.md shows the table; a test
/// keeps every row within 5 points.
#include <string>
#include <vector>

#include "sweep/projection.h"

namespace tandem::sweep {

struct PublishedRow {
  std::string name;         ///< "PyTorch DDP, ResNet-50, 16 V100"
  std::string source;       ///< where the published number is
  int workers = 1;
  int base_workers = 1;     ///< the efficiency is per-worker throughput relative to this many
  double published = 0.0;   ///< scaling efficiency, 0..1
  StepModel step;
  Cluster cluster;
};

std::vector<PublishedRow> published_rows();

/// The rows as a markdown table: published, projected, difference.
std::string validation_table(const std::vector<PublishedRow>& rows);

}  // namespace tandem::sweep
