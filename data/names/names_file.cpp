#include "data/names/names_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "data/text/alphabet.h"
#include "framework/core/error.h"

namespace tandem::data {
namespace {

/// The whole character starting at `at` (a UTF-8 sequence is several bytes:
/// printing one of them alone would garble the message).
std::string character_at(const std::string& line, std::size_t at) {
  const auto lead = static_cast<unsigned char>(line[at]);
  std::size_t length = 1;
  if (lead >= 0xF0) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = 3;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  if (lead < 0x20 || lead == 0x7F) return fmt::format("\\x{:02x}", lead);  // a control byte
  return line.substr(at, std::min(length, line.size() - at));
}

}  // namespace

NamesRead read_names_file(const std::string& path, OnInvalid on_invalid, const std::string& skip_hint) {
  std::ifstream in(path);
  if (!in) throw BadInput(fmt::format("{}: cannot read the names file", path));
  NamesRead out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return std::tolower(c); });
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    auto bad = std::find_if(line.begin(), line.end(), [](char c) { return text::Alphabet::index(c) < 0; });
    if (bad != line.end()) {
      if (on_invalid == OnInvalid::kSkip) {
        ++out.skipped;
        continue;
      }
      const auto column = static_cast<std::size_t>(bad - line.begin());
      throw BadInput(fmt::format("{}:{}: expected a name made of {}, got '{}' (character '{}') at column {}; {}",
                                 path, number, text::Alphabet::describe(), line, character_at(line, column),
                                 column + 1, skip_hint));
    }
    out.names.push_back(line);
  }
  if (out.names.empty()) {
    throw BadInput(out.skipped > 0 ? fmt::format("{}: expected one name per line, got no name in the alphabet ({} "
                                                 "skipped for characters outside {})",
                                                 path, out.skipped, text::Alphabet::describe())
                                   : fmt::format("{}: expected one name per line, got no names", path));
  }
  return out;
}

std::vector<std::string> read_names(const std::string& path, OnInvalid on_invalid) {
  return read_names_file(path, on_invalid).names;
}

}  // namespace tandem::data
