#pragma once
/// A numeric table read from a CSV file: a header row of column names, then
/// one row of numbers per line. Cells are parsed as doubles (C locale, no
/// thousands separators); fields may be quoted as in RFC 4180 ("a,b", "" for a
/// quote), but a quoted field may not span lines. Blank lines are skipped.
///
/// Errors are BadInput naming the file and line and, for a cell, the column:
///   data.csv:7: column 'age' (column 3): expected a number, got 'n/a'
///   data.csv:9: expected 5 cells as in the header (line 1), got 4
///   data.csv:1: expected a column named 'label', got columns a, b, c
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::data {

struct CsvOptions {
  char delimiter = ',';
  /// Columns to keep, by name, in this order; empty keeps every column. A
  /// name missing from the header is an error naming the file.
  std::vector<std::string> columns;
};

/// Row-major doubles with named columns.
class CsvTable {
 public:
  CsvTable() = default;
  CsvTable(std::string source, int64_t header_line, std::vector<std::string> columns, std::vector<double> values,
           std::vector<int64_t> lines);

  int64_t rows() const { return static_cast<int64_t>(lines_.size()); }
  int64_t cols() const { return static_cast<int64_t>(columns_.size()); }
  const std::vector<std::string>& columns() const { return columns_; }
  /// The file the table came from (for messages).
  const std::string& source() const { return source_; }

  double at(int64_t row, int64_t col) const { return values_[static_cast<size_t>(row * cols() + col)]; }
  /// All values, row after row.
  const std::vector<double>& values() const { return values_; }
  /// The file line each row came from (1-based; the header is line 1 or later).
  int64_t line(int64_t row) const { return lines_[static_cast<size_t>(row)]; }

  /// Index of `name`, or BadInput "file:line: expected a column named ..., got columns ...".
  int64_t index(const std::string& name) const;
  /// One column's values.
  std::vector<double> column(const std::string& name) const;

 private:
  std::string source_;
  std::vector<std::string> columns_;
  std::vector<double> values_;
  std::vector<int64_t> lines_;
  int64_t header_line_ = 1;
};

/// Reads `path`. See the file comment for the format and the errors.
CsvTable read_csv_table(const std::string& path, const CsvOptions& options = {});

/// Parses CSV text; `source` names it in messages (usually the file path).
CsvTable parse_csv_table(const std::string& text, const std::string& source, const CsvOptions& options = {});

}  // namespace tandem::data
