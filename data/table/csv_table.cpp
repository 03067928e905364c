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

namespace {

/// Builds a table line by line: the first non-empty line is the header, every
/// later one a row of the kept columns.
class TableBuilder {
 public:
  TableBuilder(const std::string& source, const CsvOptions& options) : source_(source), options_(options) {}

  bool has_header() const { return header_line_ != 0; }

  void read_header(std::vector<std::string> fields, const std::string& where, int64_t number) {
    header_line_ = number;
    header_ = std::move(fields);
    for (size_t c = 0; c < header_.size(); ++c) {
      if (header_[c].empty()) throw BadInput(fmt::format("{}: expected a name for column {}, got an empty one", where, c + 1));
      for (size_t k = 0; k < c; ++k) {
        if (header_[k] == header_[c]) {
          throw BadInput(fmt::format("{}: expected unique column names, got '{}' as columns {} and {}", where,
                                     header_[c], k + 1, c + 1));
        }
      }
    }
    // Requested columns are resolved against the header now, so a missing one
    // is reported before the whole file is parsed.
    const CsvTable names_only(source_, header_line_, header_, {}, {});
    if (options_.columns.empty()) {
      for (size_t c = 0; c < header_.size(); ++c) keep_.push_back(static_cast<int64_t>(c));
      kept_names_ = header_;
    } else {
      for (const auto& name : options_.columns) {
        keep_.push_back(names_only.index(name));
        kept_names_.push_back(name);
      }
    }
    kept_is_text_.assign(keep_.size(), 0);
    for (const auto& name : options_.text_columns) {
      const int64_t at = names_only.index(name);
      for (size_t k = 0; k < keep_.size(); ++k) {
        if (keep_[k] == at && !kept_is_text_[k]) {
          kept_is_text_[k] = 1;
          text_cols_.push_back(static_cast<int64_t>(k));
        }
      }
    }
    text_cells_.resize(text_cols_.size());
  }

  void add_row(const std::vector<std::string>& fields, const std::string& where, int64_t number) {
    if (fields.size() != header_.size()) {
      throw BadInput(fmt::format("{}: expected {} cells as in the header (line {}), got {}", where, header_.size(),
                                 header_line_, fields.size()));
    }
    for (size_t k = 0; k < keep_.size(); ++k) {
      const auto c = static_cast<size_t>(keep_[k]);
      if (kept_is_text_[k]) {
        for (size_t t = 0; t < text_cols_.size(); ++t) {
          if (text_cols_[t] == static_cast<int64_t>(k)) text_cells_[t].push_back(fields[c]);
        }
        values_.push_back(std::nan(""));
        continue;
      }
      values_.push_back(number_cell(fields[c], c, where));
    }
    lines_.push_back(number);
  }

  CsvTable finish() {
    if (!has_header()) throw BadInput(fmt::format("{}: expected a header row of column names, got an empty file", source_));
    return CsvTable(source_, header_line_, std::move(kept_names_), std::move(values_), std::move(lines_),
                    std::move(text_cols_), std::move(text_cells_));
  }

 private:
  /// A numeric cell; a missing one is NaN where the options allow it.
  double number_cell(const std::string& cell, size_t c, const std::string& where) const {
    double v = 0;
    if (parse_double(cell, &v)) return v;
    if (options_.missing == MissingCells::kAllow && is_missing_cell(cell)) return std::nan("");
    throw BadInput(fmt::format("{}: column '{}' (column {}): expected a finite number, got {}", where, header_[c], c + 1,
                               cell.empty() ? std::string("an empty cell") : "'" + cell + "'"));
  }

  const std::string& source_;
  const CsvOptions& options_;
  std::vector<std::string> header_;
  int64_t header_line_ = 0;
  std::vector<int64_t> keep_;  // header position of each kept column
  std::vector<std::string> kept_names_;
  std::vector<double> values_;
  std::vector<int64_t> lines_;
  std::vector<char> kept_is_text_;                    // per kept column
  std::vector<int64_t> text_cols_;                    // kept index of each text column
  std::vector<std::vector<std::string>> text_cells_;  // their cells
};

}  // namespace

CsvTable parse_csv_table(const std::string& text, const std::string& source, const CsvOptions& options) {
  TableBuilder table(source, options);
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
    if (table.has_header()) {
      table.add_row(fields, where, number);
    } else {
      table.read_header(std::move(fields), where, number);
    }
  }
  return table.finish();
}

CsvTable read_csv_table(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(fmt::format("{}: cannot read the CSV file", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_csv_table(buffer.str(), path, options);
}

}  // namespace tandem::data
