#pragma once
/// The communication hooks the recipe's `ddp.comm_hook` may name. Each one
/// registers a factory with TANDEM_REGISTER_COMM_HOOK: the built-in
/// allreduce, fp16 and bf16 (framework/ddp/comm_hook.cpp) exactly as a hook of
/// your own, written against CommHook (comm_hook.h). The recipe check of
/// ddp.comm_hook takes its choices from here.
///
/// This header does not include LibTorch, so the recipe schema can be built
/// from it.
#include <functional>
#include <memory>
#include <string>

#include "framework/core/registry.h"

namespace tandem::ddp {

class CommHook;  // framework/ddp/comm_hook.h

/// A registered communication hook: a fresh hook for one DDP module.
struct CommHookEntry {
  std::function<std::unique_ptr<CommHook>()> create;
};

Registry<CommHookEntry>& comm_hook_registry();

struct CommHookRegistration {
  CommHookRegistration(const std::string& name, CommHookEntry entry) {
    comm_hook_registry().add(name, std::move(entry));
  }
};

}  // namespace tandem::ddp

/// Registers a communication hook under `name` (a string literal); `create`
/// is a function `std::unique_ptr<tandem::ddp::CommHook>()`. A second
/// registration of the same name stops the program at start-up.
#define TANDEM_REGISTER_COMM_HOOK(name, create)                                                        \
  static ::tandem::ddp::CommHookRegistration TANDEM_CONCAT(tandem_comm_hook_registration_, __COUNTER__)( \
      name, ::tandem::ddp::CommHookEntry{create})
