#include "framework/train/checkpoint_integrity.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "framework/core/error.h"

namespace tandem {
namespace {

// The zip end-of-central-directory record: signature, then 16 bytes of
// counts and offsets, then the 2-byte comment length, then the comment.
constexpr std::size_t kEndRecord = 22;
constexpr unsigned char kEndSignature[4] = {0x50, 0x4b, 0x05, 0x06};
constexpr const char* kSealPrefix = "tandem-crc32=";
// "tandem-crc32=xxxxxxxx size=" + up to 20 digits.
constexpr std::size_t kMaxSeal = 64;

void write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& path) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

uLong crc_update(uLong crc, const unsigned char* data, std::size_t size) {
  while (size > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = ::crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return crc;
}

}  // namespace

void write_sealed_file(const std::filesystem::path& path, const std::function<void(const ByteSink&)>& produce) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  try {
    // The last kEndRecord bytes are held back: their final two (the comment
    // length) change once the CRC is known, and the CRC covers all bytes before them.
    std::vector<unsigned char> held;
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::uint64_t covered = 0;
    ByteSink sink = [&](const void* data, std::size_t size) {
      const auto* p = static_cast<const unsigned char*>(data);
      held.insert(held.end(), p, p + size);
      if (held.size() > 4 * kEndRecord) {
        const std::size_t out = held.size() - kEndRecord;
        crc = crc_update(crc, held.data(), out);
        covered += out;
        write_all(fd, held.data(), out, path);
        held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(out));
      }
      return size;
    };
    produce(sink);
    if (held.size() < kEndRecord || std::memcmp(held.data() + held.size() - kEndRecord, kEndSignature, 4) != 0 ||
        held[held.size() - 2] != 0 || held[held.size() - 1] != 0) {
      throw std::runtime_error(fmt::format("{}: the archive does not end in a zip end record without comment", path.string()));
    }
    const std::size_t body = held.size() - 2;  // all but the comment length
    crc = crc_update(crc, held.data(), body);
    covered += body;
    const std::string seal = fmt::format("{}{:08x} size={}", kSealPrefix, static_cast<std::uint32_t>(crc), covered);
    held[held.size() - 2] = static_cast<unsigned char>(seal.size() & 0xff);
    held[held.size() - 1] = static_cast<unsigned char>(seal.size() >> 8);
    held.insert(held.end(), seal.begin(), seal.end());
    write_all(fd, held.data(), held.size(), path);
    if (::fsync(fd) != 0) throw std::runtime_error(fmt::format("cannot sync {}: {}", path.string(), std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

std::string check_sealed_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot be opened";
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (size < kEndRecord) return fmt::format("truncated: {} bytes, shorter than a zip end record", size);
  // The seal is the zip comment, at most kMaxSeal bytes at the very end.
  const std::uint64_t tail_size = std::min<std::uint64_t>(size, kEndRecord + kMaxSeal);
  std::vector<unsigned char> tail(tail_size);
  in.seekg(static_cast<std::streamoff>(size - tail_size));
  in.read(reinterpret_cast<char*>(tail.data()), static_cast<std::streamsize>(tail_size));
  if (!in) return "cannot be read";
  const std::string text(tail.begin(), tail.end());
  const auto at = text.rfind(kSealPrefix);
  if (at == std::string::npos || at < kEndRecord) {
    return "no Tandem checksum at its end: truncated, altered, or not written by Tandem";
  }
  const std::size_t comment_len = tail[at - 2] | (static_cast<std::size_t>(tail[at - 1]) << 8);
  if (std::memcmp(tail.data() + at - kEndRecord, kEndSignature, 4) != 0 || comment_len != tail_size - at) {
    return "its zip end record is damaged";
  }
  unsigned stored_crc = 0;
  unsigned long long stored_size = 0;
  if (std::sscanf(text.c_str() + at, "tandem-crc32=%8x size=%llu", &stored_crc, &stored_size) != 2) {
    return "its checksum record is unreadable";
  }
  const std::uint64_t covered = size - comment_len - 2;
  if (stored_size != covered) {
    return fmt::format("truncated or extended: the checksum covers {} bytes, the file has {}", stored_size, covered);
  }
  in.seekg(0);
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::vector<unsigned char> buf(1 << 20);
  for (std::uint64_t left = covered; left > 0;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
    if (!in) return "cannot be read to its end";
    crc = crc_update(crc, buf.data(), n);
    left -= n;
  }
  if (static_cast<unsigned>(crc) != stored_crc) {
    return fmt::format("checksum mismatch: stored crc32 {:08x}, computed {:08x}", stored_crc, static_cast<unsigned>(crc));
  }
  return "";
}

void verify_sealed_file(const std::filesystem::path& path) {
  const std::string why = check_sealed_file(path);
  if (!why.empty()) throw BadInput(fmt::format("{}: corrupt checkpoint, refused: {}", path.string(), why));
}

}  // namespace tandem
