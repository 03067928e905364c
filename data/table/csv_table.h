#pragma once
/// A numeric table read from a CSV file: a header row of column names, then
/// one row of numbers per line. Cells are parsed as doubles (C locale, no
/// thousands separators); fields may be quoted as in RFC 4180 ("a,b", "" for a
/// quote), but a quoted field may not span lines. Blank lines are skipped.
///
/// Two things are off unless asked for: `text_columns` are kept as text (a
/// split column, categorical levels), and `missing = kAllow` reads a missing
/// numeric cell (empty, NA, NaN, null; see is_missing_cell) as NaN, for the
/// caller to refuse or impute with its own message. Every other cell must be a
/// finite number.
///
/// Errors are BadInput naming the file and line and, for a cell, the column:
///   data.csv:7: column 'age' (column 3): expected a number, got 'n/a'
///   data.csv:9: expected 5 cells as in the header (line 1), got 4
///   data.csv:1: expected a column named 'label', got columns a, b, c
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::data {

/// Whether a cell is a missing value: empty, or NA, NaN or null (any case), after trimming blanks.
bool is_missing_cell(std::string_view cell);

enum class MissingCells {
  kError,  ///< a missing numeric cell is an error naming file:line and the column
  kAllow,  ///< read as NaN (CsvTable::missing() is true there)
};

struct CsvOptions {
  char delimiter = ',';
  /// Columns kept as text (text(row, col)); their numeric values are NaN. A
  /// name missing from the header is an error naming the file.
  std::vector<std::string> text_columns;
  MissingCells missing = MissingCells::kError;
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
  /// With text columns: `text[k]` holds the cells of column `text_cols[k]`, row after row.
  CsvTable(std::string source, int64_t header_line, std::vector<std::string> columns, std::vector<double> values,
           std::vector<int64_t> lines, std::vector<int64_t> text_cols, std::vector<std::vector<std::string>> text);

  int64_t rows() const { return static_cast<int64_t>(lines_.size()); }
  int64_t cols() const { return static_cast<int64_t>(columns_.size()); }
  const std::vector<std::string>& columns() const { return columns_; }
  /// The file the table came from (for messages).
  const std::string& source() const { return source_; }

  double at(int64_t row, int64_t col) const { return values_[static_cast<size_t>(row * cols() + col)]; }
  /// Whether a numeric cell was missing (read with MissingCells::kAllow): its value is NaN.
  bool missing(int64_t row, int64_t col) const;
  /// Whether `col` was read as text.
  bool is_text(int64_t col) const;
  /// The cell of a text column, as written (unquoted, trimmed); BadInput for a numeric column.
  const std::string& text(int64_t row, int64_t col) const;
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
  std::vector<int64_t> text_cols_;                 ///< kept-column index of each text column
  std::vector<std::vector<std::string>> text_;     ///< per text column, its cells by row
};

/// Reads `path`. See the file comment for the format and the errors.
CsvTable read_csv_table(const std::string& path, const CsvOptions& options = {});

/// Parses CSV text; `source` names it in messages (usually the file path).
CsvTable parse_csv_table(const std::string& text, const std::string& source, const CsvOptions& options = {});

}  // namespace tandem::data
