#include "data/text/alphabet.h"

#include <stdexcept>

namespace tandem::text {

int Alphabet::index(char c) {
  if (c >= 'a' && c <= 'z') return 2 + (c - 'a');
  switch (c) {
    case '-': return 28;
    case '.': return 29;
    case ' ': return 30;
    default: return -1;
  }
}

char Alphabet::symbol(int i) {
  if (i >= 2 && i < 28) return static_cast<char>('a' + (i - 2));
  switch (i) {
    case 28: return '-';
    case 29: return '.';
    case 30: return ' ';
    default: throw std::out_of_range("alphabet index " + std::to_string(i) + " has no character");
  }
}

std::vector<int> Alphabet::encode(const std::string& name) {
  std::vector<int> out;
  out.reserve(name.size());
  for (char c : name) {
    int i = index(c);
    if (i < 0) throw std::invalid_argument(std::string("character '") + c + "' is not in the alphabet");
    out.push_back(i);
  }
  return out;
}

std::string Alphabet::decode(const std::vector<int>& indices) {
  std::string out;
  for (int i : indices) {
    if (i == kStop) break;
    if (i != kPad) out += symbol(i);
  }
  return out;
}

const char* Alphabet::describe() { return "a-z, '-', '.' and space"; }

}  // namespace tandem::text
