#pragma once
/// glibc's allocator and a training loop. A training step allocates and frees
/// the same large temporaries (activations, gradients) every time. glibc
/// serves blocks above its mmap threshold with fresh mmap() calls and returns
/// freed memory at the heap's top to the kernel, so each step pays page faults
/// for memory it just gave back; how often depends on a threshold glibc moves
/// by itself, which made the same step 20-30 % slower or faster depending on
/// what else the process had allocated. Workers therefore fix the thresholds
/// once at start: blocks up to 32 MiB come from the heap, and freed memory is
/// kept for the next step. The cost: the process keeps its peak heap size.
namespace tandem {

/// Sets M_MMAP_THRESHOLD to 32 MiB (glibc's maximum) and M_TRIM_THRESHOLD to
/// 1 GiB, unless TANDEM_MALLOC_TUNING=0. Returns whether it did. A no-op
/// outside glibc.
bool tune_malloc_for_training();

}  // namespace tandem
