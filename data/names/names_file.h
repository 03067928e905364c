#pragma once
/// Reading a one-name-per-line file (the shipped data/corpora/names.txt or a
/// user's own): lower-cased, trimmed, blank lines skipped.
#include <string>
#include <vector>

namespace tandem::data {

enum class OnInvalid { kError, kSkip };

/// Names from `path`. A name with a character outside the alphabet is a
/// BadInput naming file and line (kError), or is dropped (kSkip).
std::vector<std::string> read_names(const std::string& path, OnInvalid on_invalid = OnInvalid::kError);

}  // namespace tandem::data
