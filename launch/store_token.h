#pragma once
/// The per-job store token. The launcher makes one per job and gives it to its
/// workers as TANDEM_STORE_TOKEN; at rendezvous rank 0 publishes a digest of it
/// in the store and every other rank checks it before joining, so a worker of
/// another job that dials this job's port fails with a clear error instead of
/// joining. It keeps jobs apart; it is no defence against an attacker (see
/// docs/launch.md).
#include <string>

namespace tandem::launch {

inline constexpr const char* kStoreTokenEnv = "TANDEM_STORE_TOKEN";

/// 32 hex digits from /dev/urandom.
std::string make_store_token();

}  // namespace tandem::launch
