#include "data/names/names_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "data/text/alphabet.h"
#include "framework/core/error.h"

namespace tandem::data {

std::vector<std::string> read_names(const std::string& path, OnInvalid on_invalid) {
  std::ifstream in(path);
  if (!in) throw BadInput(fmt::format("{}: cannot read the names file", path));
  std::vector<std::string> names;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return std::tolower(c); });
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    auto bad = std::find_if(line.begin(), line.end(), [](char c) { return text::Alphabet::index(c) < 0; });
    if (bad != line.end()) {
      if (on_invalid == OnInvalid::kSkip) continue;
      throw BadInput(fmt::format("{}:{}: expected a name made of {}, got '{}' (character '{}'); set "
                                 "data.on_invalid=skip to drop such lines",
                                 path, number, text::Alphabet::describe(), line, *bad));
    }
    names.push_back(line);
  }
  if (names.empty()) throw BadInput(fmt::format("{}: expected one name per line, got no names", path));
  return names;
}

}  // namespace tandem::data
