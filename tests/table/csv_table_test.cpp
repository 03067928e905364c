#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>
#include <fstream>

#include "data/table/csv_table.h"
#include "framework/core/error.h"
#include "tests/support/multiprocess.h"

namespace tandem::data {
namespace {

/// The message of the BadInput that `f` throws ("" when it throws none).
template <typename F>
std::string bad_input(F&& f) {
  try {
    f();
  } catch (const BadInput& e) {
    return e.what();
  }
  return "";
}

TEST(CsvTable, ReadsNamedColumnsOfNumbers) {
  auto t = parse_csv_table("y,x1,x2\n1,0.5,-2\n0, 1e-3 ,+4\r\n\n1,\"7\",8\n", "t.csv");
  ASSERT_EQ(t.rows(), 3);
  ASSERT_EQ(t.cols(), 3);
  EXPECT_EQ(t.columns(), (std::vector<std::string>{"y", "x1", "x2"}));
  EXPECT_DOUBLE_EQ(t.at(0, 1), 0.5);
  EXPECT_DOUBLE_EQ(t.at(1, 1), 1e-3);
  EXPECT_DOUBLE_EQ(t.at(1, 2), 4.0);
  EXPECT_DOUBLE_EQ(t.at(2, 1), 7.0);
  EXPECT_EQ(t.line(2), 5);  // the blank line 4 is skipped, line numbers are the file's
  EXPECT_EQ(t.column("x2"), (std::vector<double>{-2, 4, 8}));
}

TEST(CsvTable, KeepsRequestedColumnsInTheirOrder) {
  CsvOptions o;
  o.columns = {"x2", "y"};
  auto t = parse_csv_table("y,x1,x2\n1,oops,3\n", "t.csv", o);  // x1 is not parsed: not kept
  EXPECT_EQ(t.columns(), (std::vector<std::string>{"x2", "y"}));
  EXPECT_DOUBLE_EQ(t.at(0, 0), 3.0);
  EXPECT_DOUBLE_EQ(t.at(0, 1), 1.0);
}

TEST(CsvTable, QuotedHeaderNamesMayHoldDelimitersAndQuotes) {
  auto t = parse_csv_table("\"a,b\",\"say \"\"hi\"\"\"\n1,2\n", "t.csv");
  EXPECT_EQ(t.columns(), (std::vector<std::string>{"a,b", "say \"hi\""}));
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  EXPECT_DOUBLE_EQ(parse_csv_table("a;b\n1.5;2\n", "t.csv", semicolon).at(0, 0), 1.5);
}

TEST(CsvTable, ANonNumericCellNamesFileLineAndColumn) {
  auto msg = bad_input([] { parse_csv_table("y,age\n1,3\n0,n/a\n", "d.csv"); });
  EXPECT_EQ(msg, "d.csv:3: column 'age' (column 2): expected a finite number, got 'n/a'");
  msg = bad_input([] { parse_csv_table("y,age\n1,\n", "d.csv"); });
  EXPECT_EQ(msg, "d.csv:2: column 'age' (column 2): expected a finite number, got an empty cell");
  msg = bad_input([] { parse_csv_table("y,age\n1,nan\n", "d.csv"); });
  EXPECT_NE(msg.find("d.csv:2: column 'age'"), std::string::npos) << msg;
  msg = bad_input([] { parse_csv_table("y,age\n1,2x\n", "d.csv"); });
  EXPECT_NE(msg.find("got '2x'"), std::string::npos) << msg;
}

TEST(CsvTable, ARaggedRowNamesItsLineAndTheHeaderCount) {
  auto msg = bad_input([] { parse_csv_table("a,b,c\n1,2,3\n1,2\n", "r.csv"); });
  EXPECT_EQ(msg, "r.csv:3: expected 3 cells as in the header (line 1), got 2");
  msg = bad_input([] { parse_csv_table("a,b\n1,2,3\n", "r.csv"); });
  EXPECT_EQ(msg, "r.csv:2: expected 2 cells as in the header (line 1), got 3");
}

TEST(CsvTable, AMissingColumnListsTheColumnsAndTheNearest) {
  CsvOptions o;
  o.columns = {"lable"};
  auto msg = bad_input([&] { parse_csv_table("label,x\n1,2\n", "m.csv", o); });
  EXPECT_EQ(msg, "m.csv:1: expected a column named 'lable', got columns label, x (did you mean 'label'?)");
  auto t = parse_csv_table("label,x\n1,2\n", "m.csv");
  EXPECT_NE(bad_input([&] { t.index("y"); }).find("m.csv:1: expected a column named 'y'"), std::string::npos);
}

TEST(CsvTable, MalformedFilesAreErrors) {
  EXPECT_NE(bad_input([] { parse_csv_table("", "e.csv"); }).find("e.csv: expected a header row"), std::string::npos);
  EXPECT_NE(bad_input([] { parse_csv_table("a,a\n", "e.csv"); }).find("e.csv:1: expected unique column names"),
            std::string::npos);
  EXPECT_NE(bad_input([] { parse_csv_table("a,b\n\"1,2\n", "e.csv"); }).find("e.csv:2: expected a closing quote"),
            std::string::npos);
  EXPECT_NE(bad_input([] { parse_csv_table("a,\n", "e.csv"); }).find("e.csv:1: expected a name for column 2"),
            std::string::npos);
  EXPECT_NE(bad_input([] { read_csv_table("/nonexistent/x.csv"); }).find("/nonexistent/x.csv: cannot read"),
            std::string::npos);
}

TEST(CsvTable, TextColumnsAndMissingCellsWhenAsked) {
  const std::string text = "g,a,split\n x ,1,train\n\"y,z\",NA,test\nx,,train\n";
  // By default both are errors: text in a numeric column, then an empty cell.
  EXPECT_NE(bad_input([&] { parse_csv_table(text, "t.csv"); }).find("t.csv:2: column 'g' (column 1): expected a finite number, got 'x'"),
            std::string::npos);
  CsvOptions text_only;
  text_only.text_columns = {"g", "split"};
  EXPECT_NE(bad_input([&] { parse_csv_table(text, "t.csv", text_only); }).find("t.csv:3: column 'a' (column 2): expected a finite number, got 'NA'"),
            std::string::npos);
  CsvOptions o = text_only;
  o.missing = MissingCells::kAllow;
  const CsvTable t = parse_csv_table(text, "t.csv", o);
  ASSERT_EQ(t.rows(), 3);
  EXPECT_TRUE(t.is_text(0));
  EXPECT_FALSE(t.is_text(1));
  EXPECT_EQ(t.text(0, 0), "x");
  EXPECT_EQ(t.text(1, 0), "y,z");
  EXPECT_EQ(t.text(2, 2), "train");
  EXPECT_EQ(t.at(0, 1), 1.0);
  EXPECT_FALSE(t.missing(0, 1));
  EXPECT_TRUE(t.missing(1, 1));
  EXPECT_TRUE(t.missing(2, 1));
  EXPECT_TRUE(std::isnan(t.at(2, 1)));
  EXPECT_EQ(t.line(2), 4);
  // Text is still refused in a numeric column, and a numeric column has no text.
  CsvOptions g_text;
  g_text.text_columns = {"g"};
  g_text.missing = MissingCells::kAllow;
  EXPECT_NE(bad_input([&] { parse_csv_table("g,a\nx,abc\n", "t.csv", g_text); }).find("t.csv:2: column 'a' (column 2): expected a finite number, got 'abc'"),
            std::string::npos);
  EXPECT_NE(bad_input([&] { t.text(0, 1); }).find("column 'a' was read as numbers"), std::string::npos);
  CsvOptions unknown;
  unknown.text_columns = {"nope"};
  EXPECT_NE(bad_input([&] { parse_csv_table(text, "t.csv", unknown); }).find("t.csv:1: expected a column named 'nope'"),
            std::string::npos);
  EXPECT_TRUE(is_missing_cell(" null "));
  EXPECT_TRUE(is_missing_cell("NaN"));
  EXPECT_FALSE(is_missing_cell("0"));
}

TEST(CsvTable, ReadsAFile) {
  const auto dir = test::make_temp_dir("csv");
  const auto path = (std::filesystem::path(dir) / "t.csv").string();
  std::ofstream(path) << "a,b\n1,2\n3,4\n";
  auto t = read_csv_table(path);
  EXPECT_EQ(t.source(), path);
  EXPECT_EQ(t.values(), (std::vector<double>{1, 2, 3, 4}));
  std::ofstream(path) << "a,b\n1,2\n3,x\n";
  EXPECT_NE(bad_input([&] { read_csv_table(path); }).find(path + ":3: column 'b'"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tandem::data
