#include "framework/train/checkpoint.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "framework/core/error.h"
#include "framework/train/checkpoint_integrity.h"

namespace tandem {
namespace {

torch::serialize::InputArchive open_archive(const std::filesystem::path& path) {
  verify_sealed_file(path);  // BadInput naming the file and what is wrong with it
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

/// fsync: the bytes (or a directory's entries) are on disk, not only in the page cache.
void sync_to_disk(const std::filesystem::path& path) {
  const int fd = ::open(path.empty() ? "." : path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_watched(torch::serialize::OutputArchive& archive, const std::string& prefix, const WatchedMetric& w) {
  if (!w.has_best) return;
  archive.write(prefix + "_best", c10::IValue(w.best));
  archive.write(prefix + "_best_step", c10::IValue(w.best_step));
  archive.write(prefix + "_bad", c10::IValue(w.bad));
}

WatchedMetric read_watched(torch::serialize::InputArchive& archive, const std::string& prefix) {
  WatchedMetric w;
  c10::IValue v;
  if (!archive.try_read(prefix + "_best", v)) return w;
  w.has_best = true;
  w.best = v.toDouble();
  w.best_step = read_int(archive, (prefix + "_best_step").c_str());
  w.bad = read_int(archive, (prefix + "_bad").c_str());
  return w;
}

}  // namespace

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
  root.write("world_size", c10::IValue(info.world_size));
  root.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state(), /*is_buffer=*/true);
  if (info.rng_cpu_ranks.defined()) root.write("rng_cpu_ranks", info.rng_cpu_ranks, /*is_buffer=*/true);
  write_watched(root, "early_stopping", info.early_stopping);
  write_watched(root, "best_checkpoint", info.best_checkpoint);
  auto tmp = path;
  tmp += ".tmp";
  // Sealed with a CRC-32 (checkpoint_integrity.h) and fsynced before the rename.
  write_sealed_file(tmp, [&](const ByteSink& sink) { root.save_to(sink); });
  std::filesystem::rename(tmp, path);  // atomic on POSIX: readers see the old file or the new one
  sync_to_disk(path.parent_path());    // and the rename itself survives a power cut
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
  if (archive.try_read("world_size", v)) info.world_size = v.toInt();
  info.early_stopping = read_watched(archive, "early_stopping");
  info.best_checkpoint = read_watched(archive, "best_checkpoint");
  return info;
}

namespace {

/// Module::load, but copying into the existing tensors where shapes agree
/// instead of swapping their storage (which silently detaches DDP's gradient
/// hooks): a model wrapped by DDP keeps its hooks and bucket views, the
/// optimizer its tensors.
void copy_module_state(torch::serialize::InputArchive& archive, torch::nn::Module& module, const std::string& where) {
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& key, torch::Tensor& into, bool is_buffer) {
    torch::Tensor loaded;
    if (!archive.try_read(key, loaded, is_buffer)) {
      throw BadInput(fmt::format("{}: the checkpoint has no {} '{}' in module {} (a different model?)", where,
                                 is_buffer ? "buffer" : "parameter", key, module.name()));
    }
    if (loaded.sizes() == into.sizes() && loaded.dtype() == into.dtype()) {
      into.copy_(loaded);
    } else {
      // A shape fitted to the data (an input width, a time grid): take the
      // checkpoint's tensor, as Module::load does. Only before DDP wraps the model.
      into.set_(loaded);
    }
  };
  for (auto& item : module.named_parameters(/*recurse=*/false)) copy(item.key(), item.value(), false);
  for (auto& item : module.named_buffers(/*recurse=*/false)) copy(item.key(), item.value(), true);
  for (auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      throw BadInput(fmt::format("{}: the checkpoint has no module '{}' (a different model?)", where, child.key()));
    }
    copy_module_state(child_archive, *child.value(), where);
  }
}

}  // namespace

void load_model_state(const std::filesystem::path& path, torch::nn::Module& model) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  copy_module_state(model_archive, model, path.string());
}

bool load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer, int rank) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive optim_archive;
  archive.read("optimizer", optim_archive);
  optimizer.load(optim_archive);
  torch::Tensor rng, ranks;
  bool exact = rank == 0;
  archive.read("rng_cpu", rng, /*is_buffer=*/true);
  if (archive.try_read("rng_cpu_ranks", ranks, /*is_buffer=*/true) && rank < ranks.size(0)) {
    rng = ranks[rank].contiguous();
    exact = true;
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng);
  return exact;
}

}  // namespace tandem
