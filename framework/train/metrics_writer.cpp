#include "framework/train/metrics_writer.h"

#include <stdexcept>

namespace tandem {

MetricsWriter::MetricsWriter(const std::filesystem::path& path, bool active) : active_(active) {
  if (!active_) return;
  out_.open(path, std::ios::app);
  if (!out_) throw std::runtime_error("cannot open " + path.string() + " for writing");
}

void MetricsWriter::write(const nlohmann::json& record) {
  if (!active_) return;
  out_ << record.dump() << '\n';
  out_.flush();
}

}  // namespace tandem
