#include "framework/dist/store_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tandem::dist::wire {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string encode(const Message& message) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(message.size()));
  for (const auto& part : message) {
    put_u32(out, static_cast<uint32_t>(part.size()));
    out += part;
  }
  return out;
}

Parse parse(const std::string& in, Message& message, std::size_t& consumed) {
  if (in.size() < 4) return Parse::kNeedMore;
  const uint32_t parts = get_u32(in.data());
  if (parts == 0 || parts > kMaxParts) return Parse::kBad;
  std::size_t pos = 4;
  uint64_t total = 0;
  Message out;
  out.reserve(std::min<uint32_t>(parts, 64));
  for (uint32_t i = 0; i < parts; ++i) {
    if (in.size() < pos + 4) return Parse::kNeedMore;
    const uint32_t len = get_u32(in.data() + pos);
    total += len;
    if (total > kMaxMessageBytes) return Parse::kBad;
    pos += 4;
    if (in.size() < pos + len) return Parse::kNeedMore;
    out.emplace_back(in, pos, len);
    pos += len;
  }
  message = std::move(out);
  consumed = pos;
  return Parse::kDone;
}

bool same_token(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;  // the length is no secret
  // Constant time in the content: the reply time says nothing about how much matched.
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

std::string numeric_address(const sockaddr* sa) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof(text));
  } else if (sa->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof(text));
  }
  return text;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace tandem::dist::wire
