#pragma once
/// The per-job store token. The launcher makes one per job and gives it to its
/// workers as TANDEM_STORE_TOKEN; every worker presents it when it connects to
/// rank 0's store, which closes the connection of any other token
/// (framework/dist/store.h). So a worker of another job that dials this job's
/// port fails with a clear error instead of joining. It is sent in clear: it
/// keeps jobs apart, and is no defence against someone who can watch the
/// network (see docs/launch.md).
#include <string>

namespace tandem::launch {

inline constexpr const char* kStoreTokenEnv = "TANDEM_STORE_TOKEN";

/// 32 hex digits from /dev/urandom.
std::string make_store_token();

}  // namespace tandem::launch
