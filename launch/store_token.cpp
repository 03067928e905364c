#include "launch/store_token.h"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <stdexcept>

namespace tandem::launch {

std::string make_store_token() {
  std::ifstream random("/dev/urandom", std::ios::binary);
  std::uint8_t bytes[16];
  if (!random.read(reinterpret_cast<char*>(bytes), sizeof(bytes))) {
    throw std::runtime_error("[launch] cannot read /dev/urandom for the job's store token");
  }
  std::string token;
  for (auto b : bytes) token += fmt::format("{:02x}", b);
  return token;
}

}  // namespace tandem::launch
