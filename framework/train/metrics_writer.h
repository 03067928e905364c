#pragma once
/// metrics.jsonl: one JSON object per line, appended and flushed as it is
/// written. Only rank 0 writes; on other ranks the writer does nothing.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace tandem {

class MetricsWriter {
 public:
  /// `active` is false on every rank but 0, or when there is no run directory.
  MetricsWriter(const std::filesystem::path& path, bool active);
  void write(const nlohmann::json& record);

 private:
  std::ofstream out_;
  bool active_;
};

}  // namespace tandem
