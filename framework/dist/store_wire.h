#pragma once
/// The store's wire format and protocol, shared by store_server.cpp and
/// store_client.cpp (internal: users include store.h).
///
/// Every message is a list of byte strings, framed as a little-endian u32
/// count followed by, for each string, a u32 length and its bytes.
///
/// Admission is a challenge and response over the job's token, which itself
/// never crosses the wire (each side proves it knows the token with an
/// HMAC-SHA256 of both sides' fresh nonces; see client_proof/server_proof):
///   hello PROTOCOL CLIENT_NONCE -> challenge SERVER_NONCE
///   prove CLIENT_PROOF          -> ok SERVER_PROOF | denied (closes)
///                                  | ended WHY (the job lost a member; closes)
/// Then the requests (first string) and their replies:
///   set KEY VALUE            -> ok
///   get KEY                  -> ok VALUE | missing
///   add KEY DELTA            -> ok SUM           (decimal text, as c10d stores it)
///   cas KEY EXPECTED DESIRED -> ok VALUE
///   append KEY VALUE         -> ok
///   del KEY                  -> ok 1|0
///   check KEY...             -> ok 1|0
///   num                      -> ok COUNT
///   wait MILLIS KEY...       -> ok | timeout MISSING...   (the server keeps the time)
///   join RANK HOST           -> ok              (this connection is that worker's heartbeat)
///   beat                     -> ok | lost WHY   (every 0.5 s from a member; WHY: who was lost first)
///   leave                    -> ok              (the member finished; its closing is no loss)
/// Once a member is lost (its connection closed without leave, or it was
/// silent for kSilentFor), pending waits are answered "error WHY".
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

inline constexpr const char* kProtocol = "tandem-store/2";
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

/// 32 random bytes from OpenSSL's generator, for one admission.
std::string fresh_nonce();

/// HMAC-SHA256 keyed with the token, of a label and both nonces: what the
/// client sends to prove it holds the token, and what the server answers to
/// prove the same. The labels differ, so one proof cannot be replayed as the other.
std::string client_proof(const std::string& token, const std::string& server_nonce, const std::string& client_nonce);
std::string server_proof(const std::string& token, const std::string& server_nonce, const std::string& client_nonce);

/// A member silent this long (no request) is lost; members beat every kBeatEvery.
inline constexpr int kSilentForMs = 5000;
inline constexpr int kBeatEveryMs = 500;

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
