#include "sweep/report_parts.h"

#include <fstream>
#include <stdexcept>

namespace tandem::sweep::report_parts {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* const kTerminal = "set terminal pngcairo size 1000,640 font 'sans,10' noenhanced\n";

}  // namespace tandem::sweep::report_parts
