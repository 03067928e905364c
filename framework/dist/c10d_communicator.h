#pragma once
/// Internal to framework/dist: a Communicator over a c10d process group.
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "framework/dist/communicator.h"
#include "framework/dist/endpoint.h"
#include "framework/dist/membership.h"

namespace tandem::dist {

/// Creates the Gloo (or NCCL) process group on an already rendezvoused store;
/// Gloo listens on `endpoint`. With a `membership` (a job over several
/// hosts), a failed collective names the host that was lost, and the
/// communicator leaves the job when it is destroyed other than by an exception.
std::unique_ptr<Communicator> make_c10d_communicator(c10::intrusive_ptr<c10d::Store> store, const World& world,
                                                     const DistOptions& options, const Endpoint& endpoint,
                                                     std::shared_ptr<Membership> membership);

}  // namespace tandem::dist
