#pragma once
/// Internal to sweep/: what the report's files share (writing a file, quoting
/// for gnuplot, the PNG terminal) and the sections drawn in their own files.
#include <filesystem>
#include <string>

#include "sweep/report.h"
#include "sweep/study.h"

namespace tandem::sweep::report_parts {

/// Writes `text` to `path`; std::runtime_error when it cannot.
void write_text(const std::filesystem::path& path, const std::string& text);

/// `s` in double quotes for gnuplot, with its quotes and backslashes escaped.
std::string quote(const std::string& s);

/// The terminal line every picture's script starts with.
extern const char* const kTerminal;

/// projection.gp, its data and the projection tables (report_projection.cpp);
/// returns the report's section, empty when no run all-reduced any gradients.
std::string figure_projection(const Study& s, const std::filesystem::path& out, const std::filesystem::path& sweep_dir,
                              const ReportOptions& options);

}  // namespace tandem::sweep::report_parts
