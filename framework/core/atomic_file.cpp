#include "framework/core/atomic_file.h"

#include <fstream>
#include <stdexcept>

namespace tandem {

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
