#pragma once
/// Files that are either wholly written or not there: a reader (or a run that
/// resumes after a kill) never sees half of one.
#include <filesystem>
#include <string>

namespace tandem {

/// Writes `text` to `path` atomically: a temporary file beside it, then rename.
/// Throws std::runtime_error when the temporary file cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace tandem
