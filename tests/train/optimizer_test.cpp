// The optimizer registry: the built-in optimizers and one registered here, as
// a user's own would be, built from a recipe's `optim:` section; the errors
// for an unknown name, an unknown key, a wrong type and a duplicate name.
#include "framework/train/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "framework/core/error.h"
#include "framework/recipe/recipe.h"
#include "framework/train/options.h"
#include "tests/support/recipe_problems.h"

namespace tandem {
namespace {

// A user's optimizer: heavy-ball SGD whose momentum is called `beta`. Its
// schema has no `lr`, so Tandem adds it (default 1e-3).
recipe::Section heavy_ball_schema() {
  recipe::Section s("Heavy-ball SGD (a test optimizer).");
  s.add("beta", recipe::Type::kFloat, "Momentum factor.").def(0.5).min(0).less_than(1);
  return s;
}

std::unique_ptr<torch::optim::Optimizer> make_heavy_ball(const OptimizerArgs& a) {
  return std::make_unique<torch::optim::SGD>(
      a.params, torch::optim::SGDOptions(a.lr).momentum(a.settings["beta"].as<double>()));
}

TANDEM_REGISTER_OPTIMIZER("test_heavy_ball", heavy_ball_schema, make_heavy_ball);

recipe::Section optim_root() {
  recipe::Section root;
  root.adopt("optim", optim_schema());
  return root;
}

/// The options a recipe text's `optim:` section resolves to.
OptimOptions options_of(const std::string& text) {
  return optim_options_from(recipe::load_text(text, "r.yaml", {}, optim_root()).config["optim"]);
}

std::vector<torch::Tensor> one_param() { return {torch::zeros({3}, torch::requires_grad())}; }

TEST(OptimizerRegistry, BuiltInsAndAUserOptimizerAreRegistered) {
  for (const char* name : {"adam", "sgd", "test_heavy_ball"}) EXPECT_TRUE(optimizer_registry().contains(name)) << name;
}

TEST(OptimizerRegistry, RecipeSettingsReachTheBuiltIns) {
  auto sgd = make_optimizer(options_of("optim: {type: sgd, lr: 0.1, momentum: 0.9, nesterov: true}\n"), one_param());
  auto& so = static_cast<torch::optim::SGDOptions&>(sgd->param_groups().front().options());
  ASSERT_NE(dynamic_cast<torch::optim::SGD*>(sgd.get()), nullptr);
  EXPECT_DOUBLE_EQ(so.lr(), 0.1);
  EXPECT_DOUBLE_EQ(so.momentum(), 0.9);
  EXPECT_TRUE(so.nesterov());
  auto adam = make_optimizer(options_of("optim: {betas: [0.8, 0.95], eps: 1.0e-6, weight_decay: 0.01}\n"), one_param());
  ASSERT_NE(dynamic_cast<torch::optim::Adam*>(adam.get()), nullptr) << "adam is the default type";
  auto& ao = static_cast<torch::optim::AdamOptions&>(adam->param_groups().front().options());
  EXPECT_DOUBLE_EQ(std::get<0>(ao.betas()), 0.8);
  EXPECT_DOUBLE_EQ(std::get<1>(ao.betas()), 0.95);
  EXPECT_DOUBLE_EQ(ao.eps(), 1e-6);
  EXPECT_DOUBLE_EQ(ao.weight_decay(), 0.01);
  EXPECT_DOUBLE_EQ(current_lr(*adam), 1e-3) << "adam's default lr";
}

TEST(OptimizerRegistry, OptionsBuiltInCodeTakeTheSchemaDefaults) {
  OptimOptions o;
  o.type = "sgd";
  o.lr = 0.25;  // the scaled rate: it wins over the schema's lr
  auto sgd = make_optimizer(o, one_param());
  auto& so = static_cast<torch::optim::SGDOptions&>(sgd->param_groups().front().options());
  EXPECT_DOUBLE_EQ(so.lr(), 0.25);
  EXPECT_DOUBLE_EQ(so.momentum(), 0.0);
  EXPECT_FALSE(so.nesterov());
  o.type = "adam";
  auto adam = make_optimizer(o, one_param());
  auto& ao = static_cast<torch::optim::AdamOptions&>(adam->param_groups().front().options());
  EXPECT_DOUBLE_EQ(std::get<1>(ao.betas()), 0.999);
}

TEST(OptimizerRegistry, AUserOptimizerGetsItsKeysCheckedAndItsSettings) {
  OptimOptions o = options_of("optim: {type: test_heavy_ball, beta: 0.75}\n");
  EXPECT_DOUBLE_EQ(o.lr.value(), 1e-3) << "lr added with Tandem's default";
  o.lr = 0.1;  // as after scaling
  auto opt = make_optimizer(o, one_param());
  auto& so = static_cast<torch::optim::SGDOptions&>(opt->param_groups().front().options());
  EXPECT_DOUBLE_EQ(so.momentum(), 0.75);
  EXPECT_DOUBLE_EQ(current_lr(*opt), 0.1);
  EXPECT_EQ(options_of("optim: {type: test_heavy_ball, warmup_steps: 4, decay: cosine}\n").warmup_steps, 4)
      << "the schedule keys come with every optimizer";

  const auto root = optim_root();
  auto p = test::recipe_problems("optim:\n  type: test_heavy_ball\n  betta: 0.5\n  momentum: 0.9\n", root);
  ASSERT_EQ(p.size(), 2u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0].rfind("r.yaml:3:3: optim.betta: expected a key of optim (", 0), 0u) << p[0];
  EXPECT_NE(p[0].find("got unknown key 'betta' (did you mean 'beta'?)"), std::string::npos) << p[0];
  EXPECT_EQ(p[1].rfind("r.yaml:4:3: optim.momentum: expected a key of optim (", 0), 0u) << "sgd's key, not this one's";
  p = test::recipe_problems("optim:\n  type: test_heavy_ball\n  beta: lots\n", root);
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:3:9: optim.beta: expected a number in [0, 1), got 'lots'");
  p = test::recipe_problems("optim:\n  type: test_heavy_ball\n  beta: 1\n", root);
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:3:9: optim.beta: expected a number in [0, 1), got 1");
}

TEST(OptimizerRegistry, AnUnknownNameIsBadInputWithTheNearest) {
  auto p = test::recipe_problems("optim:\n  type: adma\n", optim_root());
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0], "r.yaml:2:9: optim.type: expected one of adam, sgd, test_heavy_ball, got 'adma' (did you mean "
                  "'adam'?)");
  OptimOptions o;
  o.type = "sdg";
  try {
    make_optimizer(o, one_param());
    FAIL() << "sdg is not registered";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("unknown optimizer 'sdg' (did you mean 'sgd'?); registered: adam, sgd"),
              std::string::npos)
        << e.what();
  }
}

TEST(OptimizerRegistryDeathTest, ADuplicateNameStopsTheProgram) {
  EXPECT_DEATH(optimizer_registry().add("sgd", OptimizerEntry{heavy_ball_schema, make_heavy_ball}),
               "optimizer 'sgd' is registered twice");
}

TEST(OptimizerRegistry, ParamStateIsWhereLibTorchKeepsAParametersState) {
  auto params = std::vector<torch::Tensor>{torch::ones({2}, torch::requires_grad())};
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.1).momentum(0.9));
  params[0].mutable_grad() = torch::ones({2});
  sgd.step();  // SGD keeps a momentum buffer per parameter
  auto& slot = param_state(sgd, params[0]);
  ASSERT_TRUE(slot) << "the key must be LibTorch's own";
  auto* state = dynamic_cast<torch::optim::SGDParamState*>(slot.get());
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(torch::equal(state->momentum_buffer(), torch::ones({2})));
  EXPECT_EQ(sgd.state().size(), 1u) << "looking up made no new slot";
}

TEST(LrModes, RecipeWordsParseToEnumsAndBack) {
  for (const auto s : {LrScaling::kNone, LrScaling::kLinear, LrScaling::kSqrt}) {
    EXPECT_EQ(lr_scaling_from(to_string(s)), s);
  }
  for (const auto d : {LrDecay::kConstant, LrDecay::kCosine}) EXPECT_EQ(lr_decay_from(to_string(d)), d);
  for (const auto g : {Goal::kMin, Goal::kMax}) EXPECT_EQ(goal_from(to_string(g)), g);
  EXPECT_EQ(to_string(LrScaling::kSqrt), "sqrt");
  try {
    lr_scaling_from("cubic");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(), "optim.lr_scaling: expected one of none, linear, sqrt, got 'cubic'");
  }
  EXPECT_THROW(lr_decay_from("step"), BadInput);
  EXPECT_THROW(goal_from("minimum"), std::invalid_argument);
  const auto o = options_of("optim: {lr_scaling: sqrt, decay: cosine}\n");
  EXPECT_EQ(o.lr_scaling, LrScaling::kSqrt);
  EXPECT_EQ(o.decay, LrDecay::kCosine);
}

}  // namespace
}  // namespace tandem
