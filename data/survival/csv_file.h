#pragma once
/// A small CSV reader for the survival data: a header row of column names,
/// then rows of cells kept as text with their line numbers, so the caller
/// decides which columns are numeric and reports errors as file:line.
/// Separator ','; fields may be double-quoted ("" inside quotes is a quote);
/// blank lines are skipped; a trailing '\r' is dropped. Plain C++.
#include <optional>
#include <string>
#include <vector>

namespace tandem::data {

struct CsvFile {
  std::string path;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  ///< rows[i].size() == columns.size()
  std::vector<int> lines;                      ///< the file line of each row (1-based)

  /// Index of a column, or nullopt.
  std::optional<std::size_t> find(const std::string& name) const;
};

/// Reads `path`. BadInput when it cannot be read, has no header, or a row has
/// a different number of fields than the header (naming file:line).
CsvFile read_csv_file(const std::string& path);

/// Parses a cell as a number. Missing (empty, "NA", "NaN", "nan", "null",
/// case-insensitive) gives nullopt with *missing = true; text that is not a
/// number gives nullopt with *missing = false.
std::optional<double> parse_number(const std::string& cell, bool* missing);

}  // namespace tandem::data
