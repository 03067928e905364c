#pragma once
/// Checkpoint integrity: a CRC-32 over the whole file, kept in the file itself.
///
/// A LibTorch archive is a zip file whose last 22 bytes are the zip's end
/// record, with a comment length of 0. `write_sealed_file` streams the archive
/// to disk, computes the CRC-32 (zlib) of everything before that comment-length
/// field, and then stores it as the zip comment "tandem-crc32=<8 hex> size=<N>".
/// The result is still a standard zip, so LibTorch (C++ and Python) reads it as
/// before; `verify_sealed_file` recomputes the CRC and refuses a file that is
/// truncated, altered, or has no seal.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

namespace tandem {

/// Receives the archive's bytes in order; returns how many it took (all of them).
using ByteSink = std::function<std::size_t(const void* data, std::size_t size)>;

/// Writes `path` (not atomically: the caller writes a temporary file and
/// renames it) with what `produce` passes to its sink, sealed with the CRC, and
/// fsyncs it. Throws std::runtime_error when the bytes do not end in a zip end
/// record or the disk refuses them.
void write_sealed_file(const std::filesystem::path& path, const std::function<void(const ByteSink&)>& produce);

/// Checks the seal. Returns an empty string when the file is intact, else why
/// not, as a sentence ("truncated: ...", "checksum mismatch: ...").
std::string check_sealed_file(const std::filesystem::path& path);

/// check_sealed_file, throwing BadInput "<path>: corrupt checkpoint: <why>".
void verify_sealed_file(const std::filesystem::path& path);

}  // namespace tandem
