#pragma once
/// Pre-emption notices: a scheduler that is about to take the machine sends
/// SIGUSR1 (Slurm's --signal, or the launcher passing it on). The handler only
/// sets a flag; the trainer agrees on it across ranks at the next step,
/// writes a checkpoint and stops (exit code kExitPreempted).

namespace tandem {

/// Installs the SIGUSR1 handler (idempotent).
void install_preemption_handler();

/// Whether a notice arrived in this process.
bool preemption_requested();

}  // namespace tandem
