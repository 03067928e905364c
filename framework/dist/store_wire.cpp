#include "framework/dist/store_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

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
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string fresh_nonce() {
  std::string nonce(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(nonce.size())) != 1) {
    throw std::runtime_error("the store cannot draw a random nonce (OpenSSL's RAND_bytes failed)");
  }
  return nonce;
}

namespace {

std::string hmac_sha256(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // An empty token is a valid key: a job without a token still proves it.
  const unsigned char dummy = 0;
  const void* k = key.empty() ? static_cast<const void*>(&dummy) : static_cast<const void*>(key.data());
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), out, &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string proof(const char* label, const std::string& token, const std::string& server_nonce,
                  const std::string& client_nonce) {
  // Lengths are fixed by the protocol's checks, so plain concatenation is unambiguous.
  return hmac_sha256(token, std::string(kProtocol) + label + server_nonce + client_nonce);
}

}  // namespace

std::string client_proof(const std::string& token, const std::string& server_nonce, const std::string& client_nonce) {
  return proof(" client ", token, server_nonce, client_nonce);
}

std::string server_proof(const std::string& token, const std::string& server_nonce, const std::string& client_nonce) {
  return proof(" server ", token, server_nonce, client_nonce);
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
