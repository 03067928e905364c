#include "framework/core/malloc_tuning.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tandem {

bool tune_malloc_for_training() {
  const char* setting = std::getenv("TANDEM_MALLOC_TUNING");
  if (setting != nullptr && std::strcmp(setting, "0") == 0) return false;
#if defined(__GLIBC__)
  // Setting either value also switches off glibc's dynamic threshold.
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return mmap_ok && trim_ok;
#else
  return false;
#endif
}

}  // namespace tandem
