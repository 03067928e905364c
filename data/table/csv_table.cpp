#include "data/table/csv_table.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"
#include "framework/core/nearest.h"

namespace tandem::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Splits one line into fields. Quoted fields follow RFC 4180 within the line;
/// a quote left open at the end of the line is an error (no multi-line fields).
std::vector<std::string> split_line(std::string_view line, char delimiter, const std::string& where) {
  std::vector<std::string> fields;
  std::string field;
  size_t i = 0;
  while (true) {
    field.clear();
    // Leading blanks before an opening quote are allowed.
    size_t j = i;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    if (j < line.size() && line[j] == '"') {
      i = j + 1;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field += line[i++];
      }
      if (!closed) {
        throw BadInput(fmt::format("{}: expected a closing quote on the same line (fields may not span lines), got "
                                   "an open quote in field {}",
                                   where, fields.size() + 1));
      }
      auto rest = trim(line.substr(i, line.find(delimiter, i) == std::string_view::npos
                                          ? std::string_view::npos
                                          : line.find(delimiter, i) - i));
      if (!rest.empty()) {
        throw BadInput(fmt::format("{}: expected a delimiter after the quoted field {}, got '{}'", where,
                                   fields.size() + 1, std::string(rest)));
      }
      fields.push_back(field);
      i = line.find(delimiter, i);
    } else {
      const size_t end = line.find(delimiter, i);
      fields.emplace_back(trim(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i)));
      i = end;
    }
    if (i == std::string_view::npos) break;
    ++i;  // past the delimiter
  }
  return fields;
}

bool parse_double(std::string_view cell, double* out) {
  cell = trim(cell);
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return false;
  const char* end = cell.data() + cell.size();
  auto [ptr, ec] = std::from_chars(cell.data(), end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

bool is_missing_cell(std::string_view cell) {
  cell = trim(cell);
  return cell.empty() || iequals(cell, "na") || iequals(cell, "nan") || iequals(cell, "null");
}

CsvTable::CsvTable(std::string source, int64_t header_line, std::vector<std::string> columns,
                   std::vector<double> values, std::vector<int64_t> lines, std::vector<int64_t> text_cols,
                   std::vector<std::vector<std::string>> text)
    : CsvTable(std::move(source), header_line, std::move(columns), std::move(values), std::move(lines)) {
  text_cols_ = std::move(text_cols);
  text_ = std::move(text);
}

bool CsvTable::missing(int64_t row, int64_t col) const { return !is_text(col) && std::isnan(at(row, col)); }

bool CsvTable::is_text(int64_t col) const {
  for (int64_t c : text_cols_) {
    if (c == col) return true;
  }
  return false;
}

const std::string& CsvTable::text(int64_t row, int64_t col) const {
  for (size_t k = 0; k < text_cols_.size(); ++k) {
    if (text_cols_[k] == col) return text_[k][static_cast<size_t>(row)];
  }
  throw BadInput(fmt::format("{}: column '{}' was read as numbers; list it in the reader's text_columns to read it "
                             "as text", source_, columns_.at(static_cast<size_t>(col))));
}

CsvTable::CsvTable(std::string source, int64_t header_line, std::vector<std::string> columns,
                   std::vector<double> values, std::vector<int64_t> lines)
    : source_(std::move(source)),
      columns_(std::move(columns)),
      values_(std::move(values)),
      lines_(std::move(lines)),
      header_line_(header_line) {}

int64_t CsvTable::index(const std::string& name) const {
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c] == name) return static_cast<int64_t>(c);
  }
  throw BadInput(fmt::format("{}:{}: expected a column named '{}', got columns {}{}", source_, header_line_, name,
                             list(columns_), did_you_mean(name, columns_)));
}

std::vector<double> CsvTable::column(const std::string& name) const {
  const int64_t c = index(name);
  std::vector<double> out(static_cast<size_t>(rows()));
  for (int64_t r = 0; r < rows(); ++r) out[static_cast<size_t>(r)] = at(r, c);
  return out;
}

CsvTable parse_csv_table(const std::string& text, const std::string& source, const CsvOptions& options) {
  std::vector<std::string> header;
  int64_t header_line = 0;
  std::vector<int64_t> keep;  // header position of each kept column
  std::vector<std::string> kept_names;
  std::vector<double> values;
  std::vector<int64_t> lines;
  std::vector<char> kept_is_text;             // per kept column
  std::vector<int64_t> text_cols;             // kept index of each text column
  std::vector<std::vector<std::string>> text_cells;  // their cells

  size_t pos = 0;
  int64_t number = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++number;
    if (trim(line).empty()) continue;
    const std::string where = fmt::format("{}:{}", source, number);
    auto fields = split_line(line, options.delimiter, where);

    if (header_line == 0) {
      header_line = number;
      header = std::move(fields);
      for (size_t c = 0; c < header.size(); ++c) {
        if (header[c].empty()) throw BadInput(fmt::format("{}: expected a name for column {}, got an empty one", where, c + 1));
        for (size_t k = 0; k < c; ++k) {
          if (header[k] == header[c]) {
            throw BadInput(fmt::format("{}: expected unique column names, got '{}' as columns {} and {}", where,
                                       header[c], k + 1, c + 1));
          }
        }
      }
      if (options.columns.empty()) {
        for (size_t c = 0; c < header.size(); ++c) keep.push_back(static_cast<int64_t>(c));
        kept_names = header;
      } else {
        // Resolve the requested columns against the header now, so a missing one
        // is reported before the whole file is parsed.
        CsvTable names_only(source, header_line, header, {}, {});
        for (const auto& name : options.columns) {
          keep.push_back(names_only.index(name));
          kept_names.push_back(name);
        }
      }
      CsvTable names_only(source, header_line, header, {}, {});
      kept_is_text.assign(keep.size(), 0);
      for (const auto& name : options.text_columns) {
        const int64_t at = names_only.index(name);
        for (size_t k = 0; k < keep.size(); ++k) {
          if (keep[k] == at && !kept_is_text[k]) {
            kept_is_text[k] = 1;
            text_cols.push_back(static_cast<int64_t>(k));
          }
        }
      }
      text_cells.resize(text_cols.size());
      continue;
    }

    if (fields.size() != header.size()) {
      throw BadInput(fmt::format("{}: expected {} cells as in the header (line {}), got {}", where, header.size(),
                                 header_line, fields.size()));
    }
    for (size_t k = 0; k < keep.size(); ++k) {
      const int64_t c = keep[k];
      if (kept_is_text[k]) {
        for (size_t t = 0; t < text_cols.size(); ++t) {
          if (text_cols[t] == static_cast<int64_t>(k)) text_cells[t].push_back(fields[static_cast<size_t>(c)]);
        }
        values.push_back(std::nan(""));
        continue;
      }
      double v = 0;
      if (!parse_double(fields[static_cast<size_t>(c)], &v)) {
        const auto& cell = fields[static_cast<size_t>(c)];
        if (options.missing == MissingCells::kAllow && is_missing_cell(cell)) {
          values.push_back(std::nan(""));
          continue;
        }
        throw BadInput(fmt::format("{}: column '{}' (column {}): expected a finite number, got {}", where,
                                   header[static_cast<size_t>(c)], c + 1,
                                   cell.empty() ? std::string("an empty cell") : "'" + cell + "'"));
      }
      values.push_back(v);
    }
    lines.push_back(number);
  }
  if (header_line == 0) throw BadInput(fmt::format("{}: expected a header row of column names, got an empty file", source));
  return CsvTable(source, header_line, std::move(kept_names), std::move(values), std::move(lines),
                  std::move(text_cols), std::move(text_cells));
}

CsvTable read_csv_table(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(fmt::format("{}: cannot read the CSV file", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_csv_table(buffer.str(), path, options);
}

}  // namespace tandem::data
