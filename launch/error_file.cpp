#include "launch/error_file.h"

#include <cxxabi.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <typeinfo>

namespace tandem::launch {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* text = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && text != nullptr ? text : name;
  std::free(text);
  return out;
}

}  // namespace

std::string format_utc(int64_t timestamp_us) {
  const std::time_t secs = static_cast<std::time_t>(timestamp_us / 1000000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(secs), static_cast<int>((timestamp_us / 1000) % 1000));
}

bool record_uncaught_error(const std::exception& e, int exit_code) {
  try {
    const char* file = std::getenv(kErrorFileEnv);
    if (file == nullptr || *file == '\0') return false;
    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const char* rank_text = std::getenv("RANK");
    const int rank = rank_text != nullptr ? std::atoi(rank_text) : -1;
    const std::string type = demangle(typeid(e).name());
    nlohmann::json j;
    j["rank"] = rank;
    j["pid"] = static_cast<int>(::getpid());
    j["exit_code"] = exit_code;
    j["type"] = type;
    j["error"] = e.what();
    j["timestamp_us"] = now_us;
    j["time"] = format_utc(now_us);
    // torchelastic's layout, read by torchrun's own tools.
    j["message"] = {{"message", type + ": " + e.what()},
                    {"extraInfo", {{"timestamp", std::to_string(now_us / 1000000)}, {"py_callstack", ""}}}};
    const std::string tmp = std::string(file) + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << j.dump(2) << '\n';
      if (!out) return false;
    }
    return std::rename(tmp.c_str(), file) == 0;
  } catch (...) {
    return false;  // reporting an error must not raise another
  }
}

std::optional<ErrorRecord> read_error_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    ErrorRecord r;
    r.rank = j.value("rank", -1);
    r.pid = j.value("pid", 0);
    r.exit_code = j.value("exit_code", 1);
    r.type = j.value("type", std::string());
    r.message = j.value("error", std::string());
    r.timestamp_us = j.value("timestamp_us", int64_t{0});
    if (r.message.empty() && j.contains("message") && j["message"].is_object()) {
      r.message = j["message"].value("message", std::string());  // written by torchelastic
    }
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace tandem::launch
