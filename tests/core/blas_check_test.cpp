#include "framework/core/blas_check.h"

#include <gtest/gtest.h>

namespace tandem {

TEST(BlasCheck, TellsReferenceFromOptimisedBlas) {
  EXPECT_TRUE(is_reference_blas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"));
  EXPECT_FALSE(is_reference_blas("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"));
  EXPECT_FALSE(is_reference_blas("/opt/intel/mkl/lib/libmkl_rt.so"));
  EXPECT_FALSE(is_reference_blas(""));
}

}  // namespace tandem
