#pragma once
/// Picking a TCP port nobody listens on.
#include <string>

namespace tandem::launch {

/// Binds port 0 on `addr`, reads the port the kernel chose, and releases it.
/// (Another process could take it before rank 0 binds it; the window is short.)
int find_free_port(const std::string& addr = "127.0.0.1");

}  // namespace tandem::launch
