#include "framework/core/nearest.h"

#include <gtest/gtest.h>

namespace tandem {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("epochs", "epochs"), 0u);
  EXPECT_EQ(edit_distance("epoch", "epochs"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Nearest, SuggestsAPlausibleTypoOnly) {
  const std::vector<std::string> keys{"epochs", "batch_size", "seed", "log_every"};
  EXPECT_EQ(nearest("epoch", keys).value(), "epochs");
  EXPECT_EQ(nearest("bach_size", keys).value(), "batch_size");
  EXPECT_FALSE(nearest("completely_different", keys).has_value());
  EXPECT_EQ(did_you_mean("sed", keys), " (did you mean 'seed'?)");
  EXPECT_EQ(did_you_mean("zzzzzzzz", keys), "");
}

}  // namespace tandem
