#include "framework/train/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "framework/core/error.h"

namespace tandem {
namespace {

torch::serialize::InputArchive open_archive(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const std::exception& e) {
    throw BadInput(fmt::format("{}: not a readable Tandem checkpoint ({})", path.string(), e.what()));
  }
  return archive;
}

int64_t read_int(torch::serialize::InputArchive& archive, const char* key) {
  c10::IValue v;
  archive.read(key, v);
  return v.toInt();
}

std::vector<std::filesystem::path> step_checkpoints(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("step-", 0) == 0 && entry.path().extension() == ".pt") {
      found.push_back(entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t global_step) {
  return dir / fmt::format("step-{:09d}.pt", global_step);
}

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  torch::serialize::OutputArchive root;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  root.write("model", model_archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optim_archive;
    optimizer->save(optim_archive);
    root.write("optimizer", optim_archive);
  }
  root.write("epoch", c10::IValue(info.position.epoch));
  root.write("step_in_epoch", c10::IValue(info.position.step_in_epoch));
  root.write("global_step", c10::IValue(info.position.global_step));
  root.write("config", c10::IValue(info.config_yaml));
  root.write("tandem_version", c10::IValue(info.tandem_version));
  root.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state(), /*is_buffer=*/true);
  auto tmp = path;
  tmp += ".tmp";
  root.save_to(tmp.string());
  std::filesystem::rename(tmp, path);  // atomic on POSIX: readers see the old file or the new one
}

CheckpointInfo read_checkpoint_info(const std::filesystem::path& path) {
  auto archive = open_archive(path);
  CheckpointInfo info;
  info.position.epoch = read_int(archive, "epoch");
  info.position.step_in_epoch = read_int(archive, "step_in_epoch");
  info.position.global_step = read_int(archive, "global_step");
  c10::IValue v;
  archive.read("config", v);
  info.config_yaml = v.toStringRef();
  archive.read("tandem_version", v);
  info.tandem_version = v.toStringRef();
  return info;
}

void load_model_state(const std::filesystem::path& path, torch::nn::Module& model) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  model.load(model_archive);
}

void load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive optim_archive;
  archive.read("optimizer", optim_archive);
  optimizer.load(optim_archive);
  torch::Tensor rng;
  archive.read("rng_cpu", rng, /*is_buffer=*/true);
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng);
}

std::filesystem::path resolve_checkpoint(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return path;
  if (!std::filesystem::is_directory(path, ec)) {
    throw BadInput(fmt::format("--checkpoint {}: no such file or directory", path.string()));
  }
  for (const auto& dir : {path / "checkpoints", path}) {
    auto found = step_checkpoints(dir);
    if (!found.empty()) return found.back();
  }
  throw BadInput(fmt::format("--checkpoint {}: the directory holds no step-*.pt checkpoint", path.string()));
}

void prune_checkpoints(const std::filesystem::path& dir, int64_t keep) {
  auto found = step_checkpoints(dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < found.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(found[i], ec);
  }
}

}  // namespace tandem
