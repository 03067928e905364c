#include "framework/core/registry.h"

#include <gtest/gtest.h>

namespace tandem {

TEST(Registry, ReturnsRegisteredEntries) {
  Registry<int> r("widget");
  r.add("alpha", 1);
  r.add("beta", 2);
  EXPECT_TRUE(r.contains("alpha"));
  EXPECT_EQ(r.get("beta"), 2);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"alpha", "beta"}));
}

TEST(Registry, UnknownNameListsChoicesAndNearest) {
  Registry<int> r("widget");
  r.add("char_lstm", 1);
  r.add("logistic", 2);
  try {
    r.get("char_lstn");
    FAIL() << "expected BadInput";
  } catch (const BadInput& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown widget 'char_lstn'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean 'char_lstm'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("registered: char_lstm, logistic"), std::string::npos) << msg;
  }
}

TEST(RegistryDeathTest, DuplicateNameAborts) {
  Registry<int> r("widget");
  r.add("same", 1);
  EXPECT_DEATH(r.add("same", 2), "widget 'same' is registered twice");
}

}  // namespace tandem
