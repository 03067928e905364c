#pragma once
/// Internal to framework/dist: timing collectives that run on a GPU stream
/// (NCCL), without making the host wait for the GPU.
///
/// NCCL's work is done, as far as the host can see, once it is enqueued: its
/// future completes then, and wait() only makes the current stream wait for
/// NCCL's stream. So the time a collective took can only be read on the GPU,
/// from events: one on the compute stream where the collective was launched,
/// and one on a side stream that waits for the collective and nothing else,
/// so that it fires the moment the collective finishes.
#include <c10/core/Device.h>
#include <c10/core/Stream.h>

#include <functional>
#include <memory>

#include "framework/dist/communicator.h"

namespace tandem::dist {

/// Whether this LibTorch can time one event against another
/// (torch_compat.h); without it, collectives on the GPU are timed on the host.
bool can_time_streams();

/// Now, on `device`'s current stream.
std::shared_ptr<const Mark> current_stream_mark(const c10::Device& device);

/// Runs `make_current_stream_wait` with a side stream of `device` made
/// current, then marks that stream: the mark is reached when what the side
/// stream waited for (a collective's end, through its Work's wait()) is done,
/// and no earlier. One side stream per device, reused; it carries no work.
std::shared_ptr<const Mark> completion_mark(const c10::Device& device,
                                            const std::function<void()>& make_current_stream_wait);

}  // namespace tandem::dist
