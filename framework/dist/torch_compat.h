#pragma once
/// Internal to framework/dist: every difference between the LibTorch versions
/// Tandem builds against (Debian's 1.13, CPU only; 2.x, the LibTorch zip or the
/// one inside a pip-installed torch, with CUDA and NCCL). This is the only
/// header in Tandem that looks at TORCH_VERSION; the rest of the code uses
/// Tandem's own Communicator and Work (communicator.h).
///
/// What differs, and what does not:
/// - The class a process group derives from: in 1.13 ProcessGroupGloo and
///   ProcessGroupNCCL are c10d::ProcessGroup; from 2.0 on they are
///   c10d::Backend (a ProcessGroup then dispatches to one Backend per device).
///   Debian's 1.13 ships Backend.hpp too, so only the version tells them apart.
/// - The asynchronous work type: c10d::Work in 1.13 (Debian) and 2.x; an
///   older LibTorch calls it c10d::ProcessGroup::Work.
/// - c10::Event can wait for itself and time itself against another event
///   (synchronize, elapsedTime) in 2.x, not in 1.13: collectives on a GPU are
///   timed with events only where it can.
/// - Gloo's devices: ProcessGroupGloo::createDeviceForHostname(address) and
///   createDeviceForInterface(name) exist in both, called with one argument
///   (2.x adds a trailing `bool lazyInit = false`), so they need nothing here.
///   Tandem never calls createDefaultDevice (see endpoint.h).
/// - c10d::Store gains virtuals in 2.x: clone() (pure) and append() (with a
///   default). rendezvous.cpp's store defines both whatever the version: they
///   override in 2.x and are plain, unused member functions in 1.13, so they
///   need nothing here.
#include <ATen/autocast_mode.h>
#include <c10/core/Event.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/version.h>

#include <stdexcept>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#endif

#if __has_include(<torch/csrc/distributed/c10d/Work.hpp>)
#include <torch/csrc/distributed/c10d/Work.hpp>
#endif

namespace tandem::dist::compat {

/// The base class of ProcessGroupGloo and ProcessGroupNCCL: what a
/// communicator holds (c10d_communicator.cpp checks it against the real
/// hierarchy with a static_assert).
#if TORCH_VERSION_MAJOR >= 2
using C10dBackend = c10d::Backend;
#else
using C10dBackend = c10d::ProcessGroup;
#endif

/// What a collective returns.
#if __has_include(<torch/csrc/distributed/c10d/Work.hpp>)
using C10dWork = c10d::Work;
#else
using C10dWork = c10d::ProcessGroup::Work;
#endif

/// Autocast for one device type (trainer.precision): 2.x keys every setting
/// by device type; 1.13 has one function pair per backend, CPU and CUDA.
struct AutocastState {
  bool enabled = false;
  at::ScalarType dtype = at::kFloat;
};

inline AutocastState autocast_state(c10::DeviceType type) {
#if TORCH_VERSION_MAJOR >= 2
  return {at::autocast::is_autocast_enabled(type), at::autocast::get_autocast_dtype(type)};
#else
  if (type == c10::DeviceType::CUDA) return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
  return {at::autocast::is_cpu_enabled(), at::autocast::get_autocast_cpu_dtype()};
#endif
}

inline void set_autocast_state(c10::DeviceType type, const AutocastState& state) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_dtype(type, state.dtype);
  at::autocast::set_autocast_enabled(type, state.enabled);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(state.dtype);
    at::autocast::set_enabled(state.enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(state.dtype);
    at::autocast::set_cpu_enabled(state.enabled);
  }
#endif
}

/// Binds a process group to the rank's GPU, so NCCL creates its communicator
/// there (2.x; 1.13 has no such call and guesses from the current device).
inline void bind_device(C10dBackend& group, const at::Device& device) {
#if TORCH_VERSION_MAJOR >= 2
  group.setBoundDeviceId(device);
#else
  (void)group;
  (void)device;
#endif
}

/// Tears a process group's communicators down (2.x; nothing to do in 1.13).
inline void shutdown(C10dBackend& group) {
#if TORCH_VERSION_MAJOR >= 2
  try {
    group.shutdown();
  } catch (const std::exception&) {
    // Already torn down, or a peer is gone: nothing left to release.
  }
#else
  (void)group;
#endif
}

/// Whether c10::Event has synchronize() and elapsedTime(): 2.11 has them,
/// 1.13 has neither; enabled from 2.4, the release whose device-generic
/// torch.Event is built on them.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define TANDEM_TORCH_EVENT_TIMING 1
#else
#define TANDEM_TORCH_EVENT_TIMING 0
#endif
constexpr bool kEventTiming = TANDEM_TORCH_EVENT_TIMING;

/// Milliseconds from `from` to `to`, two events recorded with timing on the
/// same device; waits until both have fired.
inline double elapsed_ms(const c10::Event& from, const c10::Event& to) {
#if TANDEM_TORCH_EVENT_TIMING
  from.synchronize();
  to.synchronize();
  return from.elapsedTime(to);
#else
  (void)from;
  (void)to;
  throw std::logic_error("[dist] this LibTorch cannot time one event against another (kEventTiming is false)");
#endif
}

}  // namespace tandem::dist::compat
