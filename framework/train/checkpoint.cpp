#include "framework/train/checkpoint.h"

#include <c10/util/Type.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <typeinfo>
#include <vector>

#include "framework/core/error.h"
#include "framework/train/checkpoint_integrity.h"

namespace tandem {
namespace {

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

int64_t read_int(InputArchive& archive, const char* key) {
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

void write_watched(OutputArchive& archive, const std::string& prefix, const WatchedMetric& w) {
  if (!w.has_best) return;
  archive.write(prefix + "_best", c10::IValue(w.best));
  archive.write(prefix + "_best_step", c10::IValue(w.best_step));
  archive.write(prefix + "_bad", c10::IValue(w.bad));
}

WatchedMetric read_watched(InputArchive& archive, const std::string& prefix) {
  WatchedMetric w;
  c10::IValue v;
  if (!archive.try_read(prefix + "_best", v)) return w;
  w.has_best = true;
  w.best = v.toDouble();
  w.best_step = read_int(archive, (prefix + "_best_step").c_str());
  w.bad = read_int(archive, (prefix + "_bad").c_str());
  return w;
}

/// A tensor as the archive should hold it: on the CPU, still a parameter
/// (requires_grad) where the original is one. A CPU tensor is written as is.
torch::Tensor host_copy(const torch::Tensor& t) {
  if (t.is_cpu()) return t;
  torch::NoGradGuard no_grad;
  auto copy = t.to(torch::kCPU);
  if (t.requires_grad()) copy.requires_grad_(true);
  return copy;
}

/// Module::save, with host copies: the same layout (parameters, then buffers,
/// then one sub-archive per serializable child), so Module::load reads it too.
void write_module(OutputArchive& archive, const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) archive.write(p.key(), host_copy(p.value()));
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    archive.write(b.key(), host_copy(b.value()), /*is_buffer=*/true);
  }
  for (const auto& child : module.named_children()) {
    if (!child.value()->is_serializable()) continue;
    OutputArchive child_archive(archive.compilation_unit());
    write_module(child_archive, *child.value());
    archive.write(child.key(), child_archive);
  }
}

/// Calls `f` on each defined tensor of one parameter's optimizer state, for the
/// optimizers LibTorch ships. Returns false for a state type it does not know.
template <typename F>
bool for_each_state_tensor(torch::optim::OptimizerParamState& state, F&& f) {
  namespace optim = torch::optim;
  auto visit = [&](torch::Tensor& t) {
    if (t.defined()) f(t);
  };
  if (auto* s = dynamic_cast<optim::AdamParamState*>(&state)) {
    visit(s->exp_avg());
    visit(s->exp_avg_sq());
    visit(s->max_exp_avg_sq());
  } else if (auto* s = dynamic_cast<optim::AdamWParamState*>(&state)) {
    visit(s->exp_avg());
    visit(s->exp_avg_sq());
    visit(s->max_exp_avg_sq());
  } else if (auto* s = dynamic_cast<optim::SGDParamState*>(&state)) {
    visit(s->momentum_buffer());
  } else if (auto* s = dynamic_cast<optim::RMSpropParamState*>(&state)) {
    visit(s->square_avg());
    visit(s->momentum_buffer());
    visit(s->grad_avg());
  } else if (auto* s = dynamic_cast<optim::AdagradParamState*>(&state)) {
    visit(s->sum());
  } else if (auto* s = dynamic_cast<optim::LBFGSParamState*>(&state)) {
    visit(s->d());
    visit(s->H_diag());
    visit(s->prev_flat_grad());
    for (auto& t : s->old_dirs()) visit(t);
    for (auto& t : s->old_stps()) visit(t);
    for (auto& t : s->ro()) visit(t);
    if (s->al()) {
      for (auto& t : *s->al()) visit(t);
    }
  } else {
    return false;
  }
  return true;
}

/// The one device of an optimizer's parameters (the CPU when it has none).
/// Tandem places a model on one device, so its state follows one device too.
c10::Device parameters_device(const torch::optim::Optimizer& optimizer) {
  std::optional<c10::Device> device;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& p : group.params()) {
      if (!device) device = p.device();
      if (p.device() != *device) {
        throw std::invalid_argument(fmt::format("checkpoint: the optimizer's parameters are on {} and on {}; Tandem "
                                                "keeps a model on one device",
                                                device->str(), p.device().str()));
      }
    }
  }
  return device.value_or(c10::Device(torch::kCPU));
}

/// Applies `f` to every tensor of the optimizer's state. Throws when the state
/// is of a type for_each_state_tensor does not know (a custom optimizer) and
/// the parameters are not on the CPU: its tensors could not be moved.
template <typename F>
void for_each_optimizer_tensor(torch::optim::Optimizer& optimizer, const c10::Device& device, F&& f) {
  for (auto& entry : optimizer.state()) {
    if (!for_each_state_tensor(*entry.second, f)) {
      throw std::invalid_argument(fmt::format("checkpoint: cannot move the state of this optimizer ({}) between the "
                                              "CPU and {}; Tandem knows LibTorch's Adam, AdamW, SGD, RMSprop, "
                                              "Adagrad and LBFGS",
                                              c10::demangle(typeid(*entry.second).name()), device.str()));
    }
  }
}

/// Optimizer::save, with the state's device tensors swapped for host copies
/// for the time of the write (and put back afterwards, even on an error).
void write_optimizer(OutputArchive& archive, torch::optim::Optimizer& optimizer) {
  const c10::Device device = parameters_device(optimizer);
  if (device.is_cpu()) {
    optimizer.save(archive);
    return;
  }
  std::vector<std::pair<torch::Tensor*, torch::Tensor>> on_device;
  struct PutBack {
    std::vector<std::pair<torch::Tensor*, torch::Tensor>>& swapped;
    ~PutBack() {
      for (auto& [slot, original] : swapped) *slot = std::move(original);
    }
  } put_back{on_device};
  for_each_optimizer_tensor(optimizer, device, [&](torch::Tensor& t) {
    if (t.is_cpu()) return;
    on_device.emplace_back(&t, t);
    t = host_copy(t);
  });
  optimizer.save(archive);
}

/// After Optimizer::load (whose state comes off the archive on the CPU): the
/// state onto the parameters' device.
void move_optimizer_state(torch::optim::Optimizer& optimizer) {
  const c10::Device device = parameters_device(optimizer);
  if (device.is_cpu()) return;
  for_each_optimizer_tensor(optimizer, device, [&](torch::Tensor& t) {
    if (t.device() != device) t = t.to(device);
  });
}

at::Generator default_generator(const c10::Device& device) { return at::globalContext().defaultGenerator(device); }

void set_generator_state(at::Generator generator, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

/// Row `rank` of a per-rank table, or undefined when it has none.
torch::Tensor rank_row(const torch::Tensor& table, int rank) {
  if (!table.defined() || rank < 0 || rank >= table.size(0)) return {};
  return table[rank].clone();  // storage of its own: LibTorch 2.x's CPUGeneratorImpl::set_state crashed on a row view (rank 1)
}

/// Module::load, but copying into the existing tensors where shapes agree
/// instead of swapping their storage (which silently detaches DDP's gradient
/// hooks): a model wrapped by DDP keeps its hooks and bucket views, the
/// optimizer its tensors. `copy_` crosses devices (archive on the CPU, model
/// on a GPU).
void copy_module_state(InputArchive& archive, torch::nn::Module& module, const std::string& where) {
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
      // checkpoint's tensor, as Module::load does, on the device of the one it
      // replaces, and never the archive's own storage (a second load of the
      // same Checkpoint must not alias the first). Only before DDP wraps the model.
      into.set_(loaded.to(loaded.options().device(into.device()), /*non_blocking=*/false, /*copy=*/true));
    }
  };
  for (auto& item : module.named_parameters(/*recurse=*/false)) copy(item.key(), item.value(), false);
  for (auto& item : module.named_buffers(/*recurse=*/false)) copy(item.key(), item.value(), true);
  for (auto& child : module.named_children()) {
    InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      throw BadInput(fmt::format("{}: the checkpoint has no module '{}' (a different model?)", where, child.key()));
    }
    copy_module_state(child_archive, *child.value(), where);
  }
}

/// Walks a saved module: tensors under their dotted names, parameters and buffers alike.
void collect_tensors(InputArchive& archive, const std::string& prefix,
                     std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (const auto& key : archive.keys()) {
    torch::Tensor t;
    if (archive.try_read(key, t) || archive.try_read(key, t, /*is_buffer=*/true)) {
      out.emplace_back(prefix + key, t);
      continue;
    }
    InputArchive child;
    if (archive.try_read(key, child)) collect_tensors(child, prefix + key + ".", out);
  }
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  OutputArchive root;
  OutputArchive model_archive;
  write_module(model_archive, model);
  root.write("model", model_archive);
  if (optimizer != nullptr) {
    OutputArchive optim_archive;
    write_optimizer(optim_archive, *optimizer);
    root.write("optimizer", optim_archive);
  }
  root.write("epoch", c10::IValue(info.position.epoch));
  root.write("step_in_epoch", c10::IValue(info.position.step_in_epoch));
  root.write("global_step", c10::IValue(info.position.global_step));
  root.write("config", c10::IValue(info.config_yaml));
  root.write("tandem_version", c10::IValue(info.tandem_version));
  root.write("world_size", c10::IValue(info.world_size));
  root.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state(), /*is_buffer=*/true);
  if (info.rng_cpu_ranks.defined()) root.write("rng_cpu_ranks", host_copy(info.rng_cpu_ranks), /*is_buffer=*/true);
  if (info.rng_cuda_ranks.defined()) root.write("rng_cuda_ranks", host_copy(info.rng_cuda_ranks), /*is_buffer=*/true);
  write_watched(root, "early_stopping", info.early_stopping);
  write_watched(root, "best_checkpoint", info.best_checkpoint);
  if (info.loss_scale) {
    root.write("loss_scale", c10::IValue(info.loss_scale->scale));
    root.write("loss_scale_good_steps", c10::IValue(info.loss_scale->good_steps));
    root.write("loss_scale_skipped_steps", c10::IValue(info.loss_scale->skipped_steps));
  }
  if (!info.training_weights.empty()) {
    OutputArchive weights;
    for (std::size_t i = 0; i < info.training_weights.size(); ++i) {
      weights.write(std::to_string(i), host_copy(info.training_weights[i]), /*is_buffer=*/true);
    }
    root.write("training_weights", weights);
    root.write("averaged_steps", c10::IValue(info.averaged_steps));
  }
  auto tmp = path;
  tmp += ".tmp";
  // Sealed with a CRC-32 (checkpoint_integrity.h) and fsynced before the rename.
  write_sealed_file(tmp, [&](const ByteSink& sink) { root.save_to(sink); });
  std::filesystem::rename(tmp, path);  // atomic on POSIX: readers see the old file or the new one
  sync_to_disk(path.parent_path());    // and the rename itself survives a power cut
}

torch::Tensor device_rng_state(const c10::Device& device) {
  if (!device.is_cuda()) return {};
  auto generator = default_generator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

Checkpoint::Checkpoint(const std::filesystem::path& path) : path_(path) {
  verify_sealed_file(path);  // BadInput naming the file and what is wrong with it
  try {
    // Onto the CPU whatever device wrote it (older checkpoints hold device tensors).
    archive_.load_from(path.string(), torch::Device(torch::kCPU));
  } catch (const std::exception& e) {
    throw BadInput(fmt::format("{}: not a readable Tandem checkpoint ({})", path.string(), e.what()));
  }
  info_.position.epoch = read_int(archive_, "epoch");
  info_.position.step_in_epoch = read_int(archive_, "step_in_epoch");
  info_.position.global_step = read_int(archive_, "global_step");
  c10::IValue v;
  archive_.read("config", v);
  info_.config_yaml = v.toStringRef();
  archive_.read("tandem_version", v);
  info_.tandem_version = v.toStringRef();
  if (archive_.try_read("world_size", v)) info_.world_size = v.toInt();
  archive_.try_read("rng_cpu_ranks", info_.rng_cpu_ranks, /*is_buffer=*/true);
  archive_.try_read("rng_cuda_ranks", info_.rng_cuda_ranks, /*is_buffer=*/true);
  info_.early_stopping = read_watched(archive_, "early_stopping");
  info_.best_checkpoint = read_watched(archive_, "best_checkpoint");
  if (archive_.try_read("loss_scale", v)) {
    info_.loss_scale = LossScale{v.toDouble(), read_int(archive_, "loss_scale_good_steps"),
                                 read_int(archive_, "loss_scale_skipped_steps")};
  }
  if (archive_.try_read("averaged_steps", v)) {
    info_.averaged_steps = v.toInt();
    InputArchive weights;
    archive_.read("training_weights", weights);
    // A fresh tensor for each: reading into a defined tensor overwrites its data.
    for (std::size_t i = 0;; ++i) {
      torch::Tensor t;
      if (!weights.try_read(std::to_string(i), t, /*is_buffer=*/true)) break;
      info_.training_weights.push_back(t);
    }
  }
}

void Checkpoint::load_model(torch::nn::Module& model) {
  InputArchive model_archive;
  archive_.read("model", model_archive);
  copy_module_state(model_archive, model, path_.string());
}

bool Checkpoint::load_training(torch::optim::Optimizer& optimizer, int rank, const c10::Device& device) {
  InputArchive optim_archive;
  archive_.read("optimizer", optim_archive);
  optimizer.load(optim_archive);
  move_optimizer_state(optimizer);

  torch::Tensor cpu_state = rank_row(info_.rng_cpu_ranks, rank);
  bool exact = cpu_state.defined() || rank == 0;
  if (!cpu_state.defined()) archive_.read("rng_cpu", cpu_state, /*is_buffer=*/true);
  set_generator_state(at::detail::getDefaultCPUGenerator(), cpu_state);
  if (device.is_cuda()) {
    const torch::Tensor device_state = rank_row(info_.rng_cuda_ranks, rank);
    if (device_state.defined()) {
      set_generator_state(default_generator(device), device_state);
    } else {
      exact = false;
    }
  }
  return exact;
}

std::vector<std::pair<std::string, torch::Tensor>> Checkpoint::model_tensors() {
  InputArchive model_archive;
  archive_.read("model", model_archive);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  collect_tensors(model_archive, "", out);
  return out;
}

CheckpointInfo read_checkpoint_info(const std::filesystem::path& path) { return Checkpoint(path).info(); }

void load_model_state(const std::filesystem::path& path, torch::nn::Module& model) { Checkpoint(path).load_model(model); }

bool load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer, int rank,
                         const c10::Device& device) {
  return Checkpoint(path).load_training(optimizer, rank, device);
}

}  // namespace tandem
