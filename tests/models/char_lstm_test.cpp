#include "models/char_lstm/char_lstm.h"

#include <gtest/gtest.h>

#include "data/names/char_windows.h"
#include "data/text/alphabet.h"

namespace tandem::models {
namespace {

using text::Alphabet;

CharLstmOptions small() {
  CharLstmOptions o;
  o.context = 4;
  o.hidden = 16;
  o.layers = 2;
  o.dropout = 0.0;
  return o;
}

TEST(CharLstm, LogitsAtEveryPosition) {
  torch::manual_seed(0);
  CharLstm m(small());
  data::CharWindows w({"rex", "bella"}, 4);
  auto batch = w.get({0, 1, 2, 3, 4});
  auto out = m.forward(batch);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 4, Alphabet::kSize}));
}

TEST(CharLstm, LossIsThePerSampleMeanOverNonPadTargets) {
  torch::manual_seed(0);
  CharLstm m(small());
  data::CharWindows w({"ab"}, 4);
  auto batch = w.get({0, 1, 2});  // 1, 2 and 3 non-pad targets
  auto logits = m.forward(batch).detach();
  auto logp = torch::log_softmax(logits, -1);
  const auto& t = batch.at("target");
  double expected = 0;
  for (int64_t i = 0; i < 3; ++i) {
    double sum = 0;
    int count = 0;
    for (int64_t j = 0; j < 4; ++j) {
      const int64_t target = t[i][j].item<int64_t>();
      if (target == Alphabet::kPad) continue;
      sum -= logp[i][j][target].item<double>();
      ++count;
    }
    expected += sum / count / 3.0;
  }
  EXPECT_NEAR(m.loss(batch, logits).item<double>(), expected, 1e-5);
  // Logits at pad-target positions do not matter.
  auto changed = logits.clone();
  changed[0][0].fill_(100.0);
  EXPECT_NEAR(m.loss(batch, changed).item<double>(), expected, 1e-5);

  auto metrics = m.metrics(batch, logits);
  EXPECT_DOUBLE_EQ(metrics.at("accuracy").weight, 6.0);
  EXPECT_DOUBLE_EQ(metrics.at("loss").weight, 3.0);
}

TEST(CharLstm, RejectsWindowsOfTheWrongWidth) {
  CharLstm m(small());
  data::CharWindows w({"ab"}, 6);
  try {
    m.forward(w.get({0}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected input windows of 4 characters"), std::string::npos);
  }
}

TEST(CharLstm, GenerationIsSeededAndKeepsThePrefix) {
  torch::manual_seed(0);
  CharLstm m(small());
  GenerateOptions o;
  o.count = 6;
  o.seed = 3;
  o.prefix = "ma";
  auto a = m.generate(o);
  auto b = m.generate(o);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 6u);
  for (const auto& name : a) {
    EXPECT_EQ(name.rfind("ma", 0), 0u) << name;
    EXPECT_LE(name.size(), 2u + static_cast<std::size_t>(o.max_length));
    for (char c : name) EXPECT_GE(Alphabet::index(c), 2) << name;
  }
  o.seed = 4;
  EXPECT_NE(m.generate(o), a);
  o.prefix = "M!";
  EXPECT_THROW(m.generate(o), std::invalid_argument);
}

TEST(CharLstm, LearnsASingleName) {
  torch::manual_seed(0);
  CharLstm m(small());
  data::CharWindows w({"rex"}, 4);
  auto batch = w.get({0, 1, 2, 3});
  torch::optim::Adam opt(m.parameters(), torch::optim::AdamOptions(0.02));
  for (int i = 0; i < 400; ++i) {
    opt.zero_grad();
    m.loss(batch, m.forward(batch)).backward();
    opt.step();
  }
  EXPECT_LT(m.loss(batch, m.forward(batch)).item<double>(), 0.05);
  GenerateOptions o;
  o.count = 3;
  o.temperature = 0.1;
  EXPECT_EQ(m.generate(o), (std::vector<std::string>{"rex", "rex", "rex"}));
}

}  // namespace
}  // namespace tandem::models
