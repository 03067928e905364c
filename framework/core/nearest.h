#pragma once
/// "Did you mean …?": the closest candidate to a misspelt name.
#include <optional>
#include <string>
#include <vector>

namespace tandem {

/// Levenshtein distance between two strings.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate nearest to `word`, if one is close enough to be a plausible
/// typo (distance at most max(2, |word| / 3)).
std::optional<std::string> nearest(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tandem
