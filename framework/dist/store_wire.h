#pragma once
/// The store's wire format and protocol, shared by store_server.cpp and
/// store_client.cpp (internal: users include store.h).
///
/// Every message is a list of byte strings, framed as a little-endian u32
/// count followed by, for each string, a u32 length and its bytes. Requests
/// (first string) and replies:
///   hello PROTOCOL TOKEN     -> ok | denied      (must come first; denied closes)
///   set KEY VALUE            -> ok
///   get KEY                  -> ok VALUE | missing
///   add KEY DELTA            -> ok SUM           (decimal text, as c10d stores it)
///   cas KEY EXPECTED DESIRED -> ok VALUE
///   append KEY VALUE         -> ok
///   del KEY                  -> ok 1|0
///   check KEY...             -> ok 1|0
///   num                      -> ok COUNT
///   wait MILLIS KEY...       -> ok | timeout MISSING...   (the server keeps the time)
/// A request that fails replies "error WHY". Anything else, or a request while
/// a wait is pending, closes the connection.
#include <netdb.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::dist::wire {

using Message = std::vector<std::string>;

inline constexpr const char* kProtocol = "tandem-store/1";
inline constexpr uint32_t kMaxParts = 1 << 16;
inline constexpr uint64_t kMaxMessageBytes = 1ull << 30;  // c10d stores hold small values; 1 GiB is generous

std::string encode(const Message& message);

enum class Parse { kNeedMore, kDone, kBad };

/// Parses one message from the front of `in`; on kDone, `consumed` bytes of
/// `in` made it. kBad as soon as the header breaks a limit (no parts, more than
/// kMaxParts, more than kMaxMessageBytes), without waiting for the bytes it announces.
Parse parse(const std::string& in, Message& message, std::size_t& consumed);

/// Compares tokens in time that depends on their length only.
bool same_token(const std::string& a, const std::string& b);

/// "127.0.0.1", "::1": the numeric address of an IPv4 or IPv6 socket address.
std::string numeric_address(const sockaddr* sa);

/// strerror(errno).
std::string errno_text();

/// getaddrinfo's list, freed when it goes out of scope.
struct AddrInfo {
  addrinfo* list = nullptr;
  AddrInfo() = default;
  AddrInfo(const AddrInfo&) = delete;
  AddrInfo& operator=(const AddrInfo&) = delete;
  ~AddrInfo() {
    if (list != nullptr) ::freeaddrinfo(list);
  }
};

}  // namespace tandem::dist::wire
