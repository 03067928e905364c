#pragma once
/// The 31-symbol alphabet of the pet-name models: 0 pad, 1 stop, 2–27 a–z,
/// 28 '-', 29 '.', 30 space.
#include <string>
#include <vector>

namespace tandem::text {

struct Alphabet {
  static constexpr int kPad = 0;
  static constexpr int kStop = 1;
  static constexpr int kSize = 31;

  /// The symbol's index, or -1 for a character outside the alphabet.
  static int index(char c);
  /// The character for an index >= 2 (pad and stop have none).
  static char symbol(int index);
  /// Names in the alphabet, as indices (no stop symbol).
  static std::vector<int> encode(const std::string& name);
  static std::string decode(const std::vector<int>& indices);
  /// A readable list of the allowed characters, for messages.
  static const char* describe();
};

}  // namespace tandem::text
