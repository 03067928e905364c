#pragma once
/// Which BLAS LibTorch computes through. Debian's LibTorch calls the system
/// libblas.so.3; the reference implementation behind it by default makes
/// training an order of magnitude slower than OpenBLAS.
#include <string>

namespace tandem {

/// The file that provides `sgemm_` in this process (resolved symlinks), or ""
/// if no BLAS is loaded.
std::string loaded_blas_path();

/// True when `path` is the reference BLAS rather than an optimised one.
bool is_reference_blas(const std::string& path);

/// Prints a [core] warning once when the reference BLAS is loaded.
void warn_if_reference_blas();

}  // namespace tandem
