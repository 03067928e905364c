#pragma once
/// Reading a one-name-per-line file (the shipped data/corpora/names.txt or a
/// user's own): lower-cased, trimmed, blank lines skipped.
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::data {

enum class OnInvalid { kError, kSkip };

/// The names of a file and how many lines were dropped for characters outside
/// the alphabet (kSkip).
struct NamesRead {
  std::vector<std::string> names;
  int64_t skipped = 0;
};

/// Names from `path`. A name with a character outside the alphabet is a
/// BadInput naming file, line, column and character, ending with `skip_hint`
/// (how the caller's user asks to skip such names) (kError), or is dropped and
/// counted (kSkip). A file with no name left is a BadInput.
NamesRead read_names_file(const std::string& path, OnInvalid on_invalid,
                          const std::string& skip_hint = "set data.on_invalid=skip to drop such lines");

/// read_names_file's names only.
std::vector<std::string> read_names(const std::string& path, OnInvalid on_invalid = OnInvalid::kError);

}  // namespace tandem::data
