// The two checks of framework/core/error.h: an internal error names its area
// and the condition; a bad input is a BadInput (exit 2) with the message alone.
#include "framework/core/error.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

int checked_half(int even) {
  TANDEM_CHECK(even % 2 == 0, "core", "expected an even number, got {}", even);
  return even / 2;
}

int user_half(int even) {
  TANDEM_CHECK_INPUT(even % 2 == 0, "trainer.batch_size: expected an even number, got {}", even);
  return even / 2;
}

TEST(Checks, AnInternalCheckThrowsALogicErrorNamingItsAreaAndCondition) {
  EXPECT_EQ(checked_half(4), 2);
  try {
    checked_half(3);
    FAIL() << "expected a logic_error";
  } catch (const BadInput&) {
    FAIL() << "an internal error is not the user's mistake";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "[core] expected an even number, got 3 (check failed: even % 2 == 0)");
  }
}

TEST(Checks, AnInputCheckThrowsBadInputWithTheMessageAlone) {
  EXPECT_EQ(user_half(4), 2);
  try {
    user_half(3);
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(), "trainer.batch_size: expected an even number, got 3");
  }
}

}  // namespace
}  // namespace tandem
