// framework/ddp/options.h is a plain struct: a user of the DDP module does not
// get yaml-cpp and the recipe schema with it (options_schema.h binds the recipe).
#include "framework/ddp/options.h"

#include <gtest/gtest.h>

// Every yaml-cpp header includes yaml-cpp/dll.h, which defines YAML_CPP_API.
#ifdef YAML_CPP_API
constexpr bool kIncludesYamlCpp = true;
#else
constexpr bool kIncludesYamlCpp = false;
#endif

namespace tandem::ddp {
namespace {

TEST(DdpOptions, TheHeaderNeedsNeitherYamlCppNorTheRecipeSchema) {
  EXPECT_FALSE(kIncludesYamlCpp) << "framework/ddp/options.h includes yaml-cpp; the recipe binding belongs in "
                                    "framework/ddp/options_schema.h";
  const DdpOptions defaults;
  EXPECT_EQ(defaults.bucket_cap_mb, 25.0);
  EXPECT_EQ(defaults.comm_hook, "allreduce");
}

}  // namespace
}  // namespace tandem::ddp
