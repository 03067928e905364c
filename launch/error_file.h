#pragma once
/// Per-worker error files, as torchrun's TORCHELASTIC_ERROR_FILE: the launcher
/// names one file per rank in the run's logs directory; a worker that ends on
/// an uncaught exception writes its type, message, rank, exit code and the time
/// there as JSON; the launcher reads them to name the rank that failed first
/// and why. The JSON also carries torchelastic's shape
/// ({"message": {"message": ..., "extraInfo": {"timestamp": ...}}}), so
/// torchrun's tooling reads Tandem's files too.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>

namespace tandem::launch {

/// The environment variable naming a worker's error file (torchrun's name).
inline constexpr const char* kErrorFileEnv = "TORCHELASTIC_ERROR_FILE";

struct ErrorRecord {
  int rank = -1;
  int pid = 0;
  int exit_code = 1;
  std::string type;       ///< demangled C++ type of the exception
  std::string message;    ///< its what()
  int64_t timestamp_us = 0;  ///< wall clock (Unix epoch, microseconds) when it was caught
};

/// Writes `e` (ending the process with `exit_code`) to the file named by
/// TORCHELASTIC_ERROR_FILE, if that is set. Never throws; returns whether it wrote.
bool record_uncaught_error(const std::exception& e, int exit_code);

/// Reads an error file; empty when it does not exist or is not one.
std::optional<ErrorRecord> read_error_file(const std::filesystem::path& path);

/// "2024-06-07T12:34:56.789Z".
std::string format_utc(int64_t timestamp_us);

}  // namespace tandem::launch
