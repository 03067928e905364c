#pragma once
/// Internal to framework/dist: a Communicator over a c10d process group.
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "framework/dist/communicator.h"

namespace tandem::dist {

/// Creates the Gloo (or NCCL) process group on an already rendezvoused store.
std::unique_ptr<Communicator> make_c10d_communicator(c10::intrusive_ptr<c10d::Store> store, const World& world,
                                                     const DistOptions& options);

}  // namespace tandem::dist
