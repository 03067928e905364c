#include "data/survival/csv_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "framework/core/error.h"

namespace tandem::data {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  out.push_back(trim(field));
  return out;
}

}  // namespace

std::optional<std::size_t> CsvFile::find(const std::string& name) const {
  auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) return std::nullopt;
  return static_cast<std::size_t>(it - columns.begin());
}

CsvFile read_csv_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw BadInput(fmt::format("{}: cannot read the CSV file", path));
  CsvFile f;
  f.path = path;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    auto fields = split_fields(line);
    if (f.columns.empty()) {
      f.columns = std::move(fields);
      continue;
    }
    if (fields.size() != f.columns.size()) {
      throw BadInput(fmt::format("{}:{}: expected {} fields as in the header, got {}", path, number,
                                 f.columns.size(), fields.size()));
    }
    f.rows.push_back(std::move(fields));
    f.lines.push_back(number);
  }
  if (f.columns.empty()) throw BadInput(fmt::format("{}: expected a header row of column names, got an empty file", path));
  return f;
}

std::optional<double> parse_number(const std::string& cell, bool* missing) {
  std::string lower(cell);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  *missing = lower.empty() || lower == "na" || lower == "nan" || lower == "null";
  if (*missing) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  if (end == cell.c_str() || *end != '\0') return std::nullopt;
  return v;
}

}  // namespace tandem::data
