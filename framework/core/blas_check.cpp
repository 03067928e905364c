#include "framework/core/blas_check.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include "framework/core/log.h"

namespace tandem {

std::string loaded_blas_path() {
  // Ask the dynamic linker who answers for sgemm_ in this process: that is the
  // BLAS LibTorch's own calls resolve to.
  void* symbol = dlsym(RTLD_DEFAULT, "sgemm_");
  if (symbol == nullptr) return "";
  Dl_info info{};
  if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr) return info.dli_fname;
  return resolved;
}

bool is_reference_blas(const std::string& path) {
  if (path.empty()) return false;
  for (const char* fast : {"openblas", "blis", "mkl", "atlas", "accelerate"}) {
    if (path.find(fast) != std::string::npos) return false;
  }
  // Debian's reference implementation lives in .../blas/libblas.so.3.
  return path.find("/blas/libblas") != std::string::npos || path.find("libblas.so") != std::string::npos;
}

void warn_if_reference_blas() {
  std::string path = loaded_blas_path();
  if (is_reference_blas(path)) {
    log_warn("core",
             "the reference BLAS ({}) is loaded; training will be about 10x slower. "
             "Install OpenBLAS: apt-get install libopenblas0-openmp (tools/setup.sh does this)",
             path);
  }
}

}  // namespace tandem
