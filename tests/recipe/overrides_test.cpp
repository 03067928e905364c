#include "framework/recipe/overrides.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace tandem::recipe {

TEST(Overrides, ParsesPathAndYamlValue) {
  auto o = parse_override("optim.lr=0.004");
  EXPECT_EQ(o.path, "optim.lr");
  EXPECT_DOUBLE_EQ(o.value.as<double>(), 0.004);
  auto list = parse_override("optim.betas=[0.8, 0.9]");
  ASSERT_TRUE(list.value.IsSequence());
  EXPECT_EQ(list.value.size(), 2u);
  EXPECT_EQ(parse_override("data.path=").value.as<std::string>(), "");
}

TEST(Overrides, RejectsMalformed) {
  EXPECT_THROW(parse_override("optim.lr"), BadInput);
  EXPECT_THROW(parse_override("=3"), BadInput);
  EXPECT_THROW(parse_override("optim..lr=3"), BadInput);
  EXPECT_THROW(parse_override("optim.lr=[1,"), BadInput);
}

TEST(Overrides, SetsNestedKeysCreatingMaps) {
  YAML::Node doc = YAML::Load("optim: {lr: 0.1}\ntrainer: {epochs: 3}");
  auto origin = apply_overrides(doc, {parse_override("optim.lr=0.5"), parse_override("ddp.bucket_cap_mb=4")});
  EXPECT_DOUBLE_EQ(doc["optim"]["lr"].as<double>(), 0.5);
  EXPECT_EQ(doc["trainer"]["epochs"].as<int>(), 3);
  EXPECT_DOUBLE_EQ(doc["ddp"]["bucket_cap_mb"].as<double>(), 4.0);
  EXPECT_EQ(origin.at("optim.lr"), "optim.lr=0.5");
}

TEST(Overrides, LooksLikeOverride) {
  EXPECT_TRUE(looks_like_override("optim.lr=1"));
  EXPECT_FALSE(looks_like_override("recipes/x.yaml"));
  EXPECT_FALSE(looks_like_override("dir/a=b.yaml"));
}

}  // namespace tandem::recipe
