// Marks on the host's clock: what every collective on CPU tensors is timed with.
#include <chrono>
#include <stdexcept>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"

namespace tandem::dist {
namespace {

class HostMark : public Mark {
 public:
  explicit HostMark(Work::Clock::time_point at) : at_(at) {}
  bool reached() const override { return Work::Clock::now() >= at_; }
  double seconds_since(const Mark& earlier) const override {
    const auto* host = dynamic_cast<const HostMark*>(&earlier);
    TANDEM_CHECK(host != nullptr, "dist", "a host mark compares only with another host mark");
    return std::chrono::duration<double>(at_ - host->at_).count();
  }

 private:
  Work::Clock::time_point at_;
};

}  // namespace

std::shared_ptr<const Mark> host_mark(Work::Clock::time_point at) { return std::make_shared<HostMark>(at); }

}  // namespace tandem::dist
