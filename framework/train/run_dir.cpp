#include "framework/train/run_dir.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <stdexcept>

namespace tandem {

RunDir RunDir::fresh_default(const std::string& recipe_name, const std::filesystem::path& base) {
  std::time_t now = std::time(nullptr);
  const std::string stamp = fmt::format("{:%Y%m%d-%H%M%S}", fmt::localtime(now));
  std::filesystem::path root = base / recipe_name / stamp;
  for (int k = 1; std::filesystem::exists(root); ++k) root = base / recipe_name / fmt::format("{}-{}", stamp, k);
  return RunDir(root);
}

void RunDir::create() const {
  std::filesystem::create_directories(logs());
  std::filesystem::create_directories(checkpoints());
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("failed writing " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace tandem
