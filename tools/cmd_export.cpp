// `tandem export --checkpoint PATH --format safetensors [--output FILE]`: the
// model's parameters and buffers in the safetensors format, which Python tools
// (safetensors, transformers, numpy with a few lines) read.
//
// The format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON mapping each tensor's name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that
// follows, in bytes) plus "__metadata__" (string to string), padded with spaces
// to a multiple of 8; then the tensors' bytes, little-endian, contiguous, in
// the order of their offsets.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/train/checkpoint.h"
#include "tools/commands.h"

namespace tandem::cli {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; this host is not");

const char* safetensors_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "F32";
    case at::kDouble: return "F64";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kShort: return "I16";
    case at::kChar: return "I8";
    case at::kByte: return "U8";
    case at::kBool: return "BOOL";
    default: return nullptr;
  }
}

/// The `model:` section of a checkpoint's config, as YAML: the model's options
/// (char_lstm's calibration_temperature among them) without the run's paths and
/// hosts, so that one model exported from two runs gives the same file.
std::string model_section_yaml(const std::string& config_yaml) {
  YAML::Emitter out;
  out << YAML::Load(config_yaml)["model"];
  return out.c_str();
}

}  // namespace

void add_export_command(CLI::App& app, Action& action) {
  struct Args {
    std::string checkpoint;
    std::string format;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "Write a checkpoint's model weights in another format (safetensors).");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint file, or a run directory (its newest checkpoint)")
      ->required();
  cmd->add_option("--format", args->format, "Output format")->required()->check(CLI::IsMember({"safetensors"}));
  cmd->add_option("--output,-o", args->output, "Output file (default: the checkpoint's path with .safetensors)");
  cmd->callback([&action, args] {
    action = [args] {
      const auto path = resolve_checkpoint(args->checkpoint);
      Checkpoint checkpoint(path);  // verifies the checksum; reads onto the CPU whatever device wrote it
      const CheckpointInfo& info = checkpoint.info();
      auto tensors = checkpoint.model_tensors();
      std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

      nlohmann::ordered_json header;
      header["__metadata__"] = {{"format", "pt"},
                                {"tandem_version", info.tandem_version},
                                {"global_step", std::to_string(info.position.global_step)},
                                {"epoch", std::to_string(info.position.epoch)},
                                {"source", path.string()},
                                {"model", model_section_yaml(info.config_yaml)}};
      int64_t offset = 0;
      for (auto& [name, t] : tensors) {
        const char* dtype = safetensors_dtype(t.scalar_type());
        if (dtype == nullptr) {
          throw BadInput(fmt::format("{}: tensor '{}' has type {}, which safetensors cannot hold", path.string(), name,
                                     c10::toString(t.scalar_type())));
        }
        t = t.detach().to(torch::kCPU).contiguous();
        const int64_t bytes = static_cast<int64_t>(t.nbytes());
        header[name] = {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
      }
      std::string json = header.dump();
      json.append((8 - json.size() % 8) % 8, ' ');

      std::filesystem::path output = args->output;
      if (output.empty()) output = std::filesystem::path(path).replace_extension(".safetensors");
      auto tmp = output;
      tmp += ".tmp";
      {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw BadInput(fmt::format("cannot write {}", tmp.string()));
        const uint64_t n = json.size();
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(json.data(), static_cast<std::streamsize>(json.size()));
        for (const auto& [name, t] : tensors) {
          out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
        }
        out.flush();
        if (!out) throw std::runtime_error(fmt::format("failed writing {}", tmp.string()));
      }
      std::filesystem::rename(tmp, output);
      log_info("export", "{} tensors ({} bytes) from {} to {}", tensors.size(), offset, path.string(), output.string());
      return 0;
    };
  });
}

}  // namespace tandem::cli
