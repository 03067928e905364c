// Timing collectives on a GPU stream with events (stream_mark.h). The types
// that differ between LibTorch versions come from torch_compat.h.
#include "framework/dist/stream_mark.h"

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <unordered_map>
#include <mutex>
#include <stdexcept>

#include "framework/core/error.h"
#include "framework/dist/torch_compat.h"

namespace tandem::dist {
namespace {

class StreamMark : public Mark {
 public:
  explicit StreamMark(const c10::Stream& stream) : event_(stream.device_type(), c10::EventFlag::BACKEND_DEFAULT) {
    event_.record(stream);
  }
  bool reached() const override { return event_.query(); }
  double seconds_since(const Mark& earlier) const override {
    const auto* other = dynamic_cast<const StreamMark*>(&earlier);
    TANDEM_CHECK(other != nullptr, "dist", "a stream mark compares only with another stream mark");
    return compat::elapsed_ms(other->event_, event_) / 1e3;
  }

 private:
  c10::Event event_;
};

/// The side stream of `device`: taken from LibTorch's pool once, then reused.
c10::Stream side_stream(const c10::Device& device) {
  static std::mutex mutex;
  static std::unordered_map<c10::Device, c10::Stream> streams;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = streams.find(device);
  if (it == streams.end()) {
    const c10::impl::VirtualGuardImpl impl(device.type());
    it = streams.emplace(device, impl.getStreamFromGlobalPool(device)).first;
  }
  return it->second;
}

}  // namespace

bool can_time_streams() { return compat::kEventTiming; }

std::shared_ptr<const Mark> current_stream_mark(const c10::Device& device) {
  const c10::impl::VirtualGuardImpl impl(device.type());
  return std::make_shared<StreamMark>(impl.getStream(device));
}

std::shared_ptr<const Mark> completion_mark(const c10::Device& device,
                                            const std::function<void()>& make_current_stream_wait) {
  const c10::Stream side = side_stream(device);
  const c10::StreamGuard guard(side);
  make_current_stream_wait();
  return std::make_shared<StreamMark>(side);
}

}  // namespace tandem::dist
