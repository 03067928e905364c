#include "models/char_lstm/char_lstm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>

#include "data/names/char_windows.h"
#include "data/text/alphabet.h"
#include "framework/core/error.h"
#include "framework/dist/communicator.h"
#include "framework/recipe/recipe.h"
#include "framework/train/evaluate.h"
#include "framework/train/model_checkpoint.h"
#include "tests/support/multiprocess.h"

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

/// Copies `from`'s parameters into `to` (the same shapes).
void copy_parameters(torch::nn::Module& to, torch::nn::Module& from) {
  torch::NoGradGuard no_grad;
  const auto source = from.named_parameters();
  for (auto& p : to.named_parameters()) p.value().copy_(source[p.key()]);
}

/// Window i's summed -ln P over its non-pad targets, and their count.
std::pair<double, int> window_nll(const Batch& batch, const torch::Tensor& logits, int64_t i) {
  const auto logp = torch::log_softmax(logits, -1);
  const auto& t = batch.at("target");
  double sum = 0;
  int count = 0;
  for (int64_t j = 0; j < t.size(1); ++j) {
    const int64_t target = t[i][j].item<int64_t>();
    if (target == Alphabet::kPad) continue;
    sum -= logp[i][j][target].item<double>();
    ++count;
  }
  return {sum, count};
}

// One declaration per option: an empty model: section reads as
// CharLstmOptions' defaults; a stored configuration older than `embedding`
// and `windows` reads them as their defaults too; values reach their fields.
TEST(CharLstm, AnEmptySectionIsTheStructsDefaultsAndOldConfigsReadTheNewKeysAsDefaults) {
  recipe::Section root;
  root.adopt("model", CharLstm::schema());
  const auto empty = recipe::load_text("model: {}\n", "r.yaml", {}, root).config["model"];
  const CharLstmOptions got = CharLstm::options_from(empty), d;
  EXPECT_EQ(got.context, d.context);
  EXPECT_EQ(got.hidden, d.hidden);
  EXPECT_EQ(got.layers, d.layers);
  EXPECT_EQ(got.dropout, d.dropout);
  EXPECT_EQ(got.embedding, d.embedding);
  EXPECT_EQ(got.whole_name, d.whole_name);
  EXPECT_EQ(got.per_character, d.per_character);
  EXPECT_FALSE(got.input_dropout.has_value());
  EXPECT_EQ(got.calibration_temperature, d.calibration_temperature);
  const CharLstmOptions old = CharLstm::options_from(YAML::Load("{context: 8, hidden: 32, layers: 2, dropout: 0.1}"));
  EXPECT_EQ(old.hidden, 32);
  EXPECT_EQ(old.embedding, 0) << "one-hot input, as models before the key";
  EXPECT_FALSE(old.whole_name) << "every-position windows, as models before the key";
  EXPECT_FALSE(old.per_character) << "the per-name loss, as models before the key";
  EXPECT_FALSE(old.input_dropout.has_value()) << "the input's dropout is `dropout`, as models before the key";
  EXPECT_EQ(old.calibration_temperature, 1.0) << "plain logits, as models before the key";
  const auto set =
      recipe::load_text(
          "model: {embedding: 64, windows: whole_name, layers: 1, loss: per_character, input_dropout: 0.3,\n"
          "        calibration_temperature: 1.1}\n",
          "r.yaml", {}, root)
          .config["model"];
  const CharLstmOptions o = CharLstm::options_from(set);
  EXPECT_EQ(o.embedding, 64);
  EXPECT_TRUE(o.whole_name);
  EXPECT_EQ(o.layers, 1);
  EXPECT_TRUE(o.per_character);
  EXPECT_EQ(o.input_dropout, 0.3);
  EXPECT_EQ(o.calibration_temperature, 1.1);
  EXPECT_THROW(recipe::load_text("model: {calibration_temperature: 0}\n", "r.yaml", {}, root), std::exception);
  EXPECT_THROW(recipe::load_text("model: {input_dropout: 1}\n", "r.yaml", {}, root), std::exception);
}

// input_dropout replaces `dropout` on the LSTM's input alone: the output keeps
// `dropout`, and an unset input_dropout draws the very masks `dropout` draws.
TEST(CharLstm, InputDropoutActsOnTheInputAloneAndDefaultsToDropout) {
  data::CharWindows w({"rex", "bella", "max"}, 4);
  const auto batch = w.get({0, 1, 2, 3, 4, 5});
  auto o = small();
  o.layers = 1;
  o.embedding = 8;
  torch::manual_seed(0);
  CharLstm reference(o);  // no dropout anywhere
  const auto plain = reference.forward(batch);
  auto with = [&](double dropout, std::optional<double> input_dropout) {
    auto v = o;
    v.dropout = dropout;
    v.input_dropout = input_dropout;
    CharLstm m(v);
    copy_parameters(m, reference);
    torch::manual_seed(7);
    return m.forward(batch);
  };
  EXPECT_TRUE(torch::equal(with(0.4, std::nullopt), with(0.4, 0.4)));
  EXPECT_TRUE(torch::equal(with(0.0, 0.0), plain));
  // Input dropout alone changes the LSTM's output at every position after a dropped input...
  EXPECT_FALSE(torch::allclose(with(0.0, 0.5), plain));
  // ...and dropout with a zero input_dropout acts on the output alone: the head's
  // input is the plain LSTM output, some features zeroed and the rest scaled.
  EXPECT_FALSE(torch::allclose(with(0.5, 0.0), plain));
  EXPECT_FALSE(torch::equal(with(0.5, 0.0), with(0.5, std::nullopt)));
}

// Outside training the logits are divided by calibration_temperature: nll,
// eval and sampling all read the scaled distribution; training does not.
TEST(CharLstm, CalibrationTemperatureScalesTheLogitsOutsideTrainingOnly) {
  data::CharWindows w({"rex", "bella"}, 4);
  const auto batch = w.get({0, 1, 2, 3});
  torch::manual_seed(0);
  CharLstm plain(small());
  auto o = small();
  o.calibration_temperature = 1.25;
  CharLstm warm(o);
  copy_parameters(warm, plain);
  EXPECT_TRUE(torch::allclose(warm.forward(batch), plain.forward(batch))) << "training reads the plain logits";
  plain.eval();
  warm.eval();
  EXPECT_TRUE(torch::allclose(warm.forward(batch), plain.forward(batch) / 1.25, 1e-6, 1e-7));
  // Sampling: the model's temperature and the sampler's multiply.
  GenerateOptions g;
  g.count = 20;
  g.seed = 11;
  g.temperature = 1.25;
  const auto from_plain = plain.generate(g);
  g.temperature = 1.0;
  EXPECT_EQ(warm.generate(g), from_plain);
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
  double expected = 0;
  for (int64_t i = 0; i < 3; ++i) {
    const auto [sum, count] = window_nll(batch, logits, i);
    expected += sum / count / 3.0;
  }
  EXPECT_NEAR(m.loss(batch, logits).item<double>(), expected, 1e-5);
  // Logits at pad-target positions do not matter.
  auto changed = logits.clone();
  changed[0][0].fill_(100.0);
  EXPECT_NEAR(m.loss(batch, changed).item<double>(), expected, 1e-5);

  auto metrics = m.metrics(batch, logits);
  EXPECT_DOUBLE_EQ(metrics.at("accuracy").weight, 6.0);
  EXPECT_DOUBLE_EQ(metrics.at("window_loss").weight, 3.0);
  EXPECT_NEAR(metrics.at("window_loss").sum / 3.0, expected, 1e-5) << "the window loss is the training loss";
}

// model.loss per_character: every character weighs the same, so the batch
// loss is the sum of the non-pad targets' cross-entropy over the batch's
// targets when the windows are the whole data set (their weights average 1).
TEST(CharLstm, PerCharacterLossWeighsEveryCharacterAlike) {
  torch::manual_seed(0);
  CharLstmOptions o = small();
  o.context = 8;
  o.whole_name = true;
  CharLstm per_name(o);
  o.per_character = true;
  CharLstm per_character(o);
  data::CharWindows w({"ab", "abcdefg", "x"}, 8, data::WindowMode::kWholeName);  // 3, 8 and 2 targets
  auto batch = w.get({0, 1, 2});
  EXPECT_TRUE(torch::allclose(batch.at("weight"), torch::tensor({3.0F, 8.0F, 2.0F}) / (13.0F / 3.0F)));
  auto logits = per_name.forward(batch).detach();
  double sum = 0, name_means = 0;
  for (int64_t i = 0; i < 3; ++i) {
    const auto [name_sum, count] = window_nll(batch, logits, i);
    sum += name_sum;
    name_means += name_sum / count / 3.0;
  }
  EXPECT_NEAR(per_character.loss(batch, logits).item<double>(), sum / 13.0, 1e-5);
  EXPECT_NEAR(per_name.loss(batch, logits).item<double>(), name_means, 1e-5);
  EXPECT_GT(std::abs(sum / 13.0 - name_means), 1e-3) << "the two weighings differ on names of unequal length";
  // Without the weights (windows made elsewhere) the per-character loss cannot be formed.
  batch.fields.erase("weight");
  EXPECT_THROW(per_character.loss(batch, logits), BadInput);
}

TEST(CharLstm, NllScoresEveryCharacterAndTheStopOnceFromTheFullContext) {
  torch::manual_seed(0);
  CharLstm m(small());  // context 4
  m.eval();
  torch::NoGradGuard no_grad;
  const std::vector<std::string> names = {"rex", "bellamy"};
  // The reference, built without CharWindows: each symbol of name + stop is
  // predicted once, from the 4 symbols before it (pad before the name), read
  // at the last position of a window holding exactly those 4.
  double reference = 0;
  int64_t symbols = 0;
  for (const auto& name : names) {
    std::vector<int> s = Alphabet::encode(name);
    s.push_back(Alphabet::kStop);
    for (std::size_t t = 0; t < s.size(); ++t, ++symbols) {
      std::vector<int64_t> window(4, Alphabet::kPad);
      for (int j = 0; j < 4; ++j) {
        const auto from = static_cast<int64_t>(t) - 4 + j;
        if (from >= 0) window[j] = s[from];
      }
      Batch b;
      b.size = 1;
      b.fields["input"] = torch::tensor(window, torch::kInt64).unsqueeze(0);
      auto logp = torch::log_softmax(m.forward(b)[0][3].to(torch::kFloat64), -1);
      reference -= logp[s[t]].item<double>();
    }
  }
  EXPECT_EQ(symbols, 3 + 1 + 7 + 1);
  data::CharWindows windows(names, 4);
  ASSERT_EQ(windows.size(), symbols) << "one window per predicted symbol";
  auto local = dist::make_local_communicator();
  for (int64_t batch_size : {1, 5, 64}) {
    const auto values = evaluate_model(m, windows, batch_size, *local);
    EXPECT_NEAR(values.at("nll"), reference / static_cast<double>(symbols), 1e-6) << "batch " << batch_size;
    EXPECT_NEAR(values.at("bpc"), values.at("nll") / std::log(2.0), 1e-12);
    EXPECT_NEAR(values.at("perplexity"), std::exp(values.at("nll")), 1e-12);
    EXPECT_TRUE(values.count("window_loss") && values.count("accuracy") && !values.count("loss"));
  }
}

CharLstmOptions whole_name_options() {
  CharLstmOptions o = small();
  o.context = 6;
  o.embedding = 5;
  o.whole_name = true;
  return o;
}

TEST(CharLstm, WholeNameNllReadsEachNameFromItsStart) {
  torch::manual_seed(0);
  CharLstm m(whole_name_options());
  m.eval();
  torch::NoGradGuard no_grad;
  const std::vector<std::string> names = {"rex", "bo", "bellamy"};  // "bellamy": 8 symbols, two windows of 6
  // The reference: each name read from a pad and its start, a window restarting
  // every 6 symbols, the prediction of s[t] at the window's position of s[t].
  double reference = 0;
  int64_t symbols = 0;
  for (const auto& name : names) {
    std::vector<int> s = Alphabet::encode(name);
    s.push_back(Alphabet::kStop);
    for (std::size_t t = 0; t < s.size(); ++t, ++symbols) {
      const auto start = static_cast<int64_t>(t) / 6 * 6;
      std::vector<int64_t> window(6, Alphabet::kPad);
      for (int64_t j = 0; j <= static_cast<int64_t>(t) - start; ++j) {
        if (start + j - 1 >= 0) window[j] = s[start + j - 1];
      }
      Batch b;
      b.size = 1;
      b.fields["input"] = torch::tensor(window, torch::kInt64).unsqueeze(0);
      auto logp = torch::log_softmax(m.forward(b)[0][static_cast<int64_t>(t) - start].to(torch::kFloat64), -1);
      reference -= logp[s[t]].item<double>();
    }
  }
  data::CharWindows windows(names, 6, data::WindowMode::kWholeName);
  ASSERT_EQ(windows.size(), 4);
  auto local = dist::make_local_communicator();
  for (int64_t batch_size : {1, 3}) {
    const auto values = evaluate_model(m, windows, batch_size, *local);
    EXPECT_NEAR(values.at("nll"), reference / static_cast<double>(symbols), 1e-6) << "batch " << batch_size;
  }
}

TEST(CharLstm, AModelWithoutPreferenceScoresTheLogOfTheAlphabetSize) {
  CharLstm m(small());
  {
    torch::NoGradGuard g;
    for (auto& p : m.named_parameters()) {
      if (p.key().rfind("head.", 0) == 0) p.value().zero_();  // logits 0: uniform over 31 symbols
    }
  }
  auto local = dist::make_local_communicator();
  const auto values = evaluate_model(m, data::CharWindows({"rex", "bella", "mr. whiskers"}, 4), 7, *local);
  EXPECT_NEAR(values.at("nll"), std::log(31.0), 1e-9);
  EXPECT_NEAR(values.at("bpc"), std::log2(31.0), 1e-9);
  EXPECT_NEAR(values.at("perplexity"), 31.0, 1e-7);
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

TEST(TruncateLogits, TopKAndTopPKeepTheLikeliestSymbols) {
  // Probabilities 0.15, 0.5, 0.05, 0.3 in that order: the likeliest are 1, then 3, 0, 2.
  const auto logits = torch::tensor({0.15, 0.5, 0.05, 0.3}).log().unsqueeze(0);
  auto kept = [&](int k, double p) {
    auto t = truncate_logits(logits, k, p)[0];
    std::vector<int> out;
    for (int i = 0; i < 4; ++i) {
      if (std::isfinite(t[i].item<double>())) out.push_back(i);
    }
    return out;
  };
  EXPECT_EQ(kept(0, 1.0), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(kept(2, 1.0), (std::vector<int>{1, 3}));
  EXPECT_EQ(kept(1, 1.0), (std::vector<int>{1}));
  EXPECT_EQ(kept(0, 0.7), (std::vector<int>{1, 3})) << "0.5 + 0.3 reach 0.7";
  EXPECT_EQ(kept(0, 0.5), (std::vector<int>{1})) << "0.5 alone reaches 0.5";
  EXPECT_EQ(kept(0, 0.81), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(kept(0, 0.01), (std::vector<int>{1})) << "never none";
  EXPECT_EQ(kept(3, 0.7), (std::vector<int>{1, 3}));
  // The kept logits are unchanged.
  EXPECT_TRUE(torch::equal(truncate_logits(logits, 2, 1.0)[0][1], logits[0][1]));
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
  // top_k 1 is greedy: every seed gives the same names, each the likeliest continuation.
  o.top_k = 1;
  const auto greedy = m.generate(o);
  o.seed = 5;
  EXPECT_EQ(m.generate(o), greedy);
  EXPECT_EQ(std::set<std::string>(greedy.begin(), greedy.end()).size(), 1u);
  o.top_k = 0;
  o.top_p = 1e-6;  // the nucleus is the likeliest symbol alone: greedy too
  EXPECT_EQ(m.generate(o), greedy);
  o.top_p = 0;
  EXPECT_THROW(m.generate(o), std::invalid_argument);
  o.top_p = 1;
  o.prefix = "M!";
  EXPECT_THROW(m.generate(o), std::invalid_argument);
}

/// The model's loss on `batch` after `steps` Adam steps on it alone (lr 0.02).
double fit(CharLstm& m, const Batch& batch, int steps) {
  torch::optim::Adam opt(m.parameters(), torch::optim::AdamOptions(0.02));
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    m.loss(batch, m.forward(batch)).backward();
    opt.step();
  }
  return m.loss(batch, m.forward(batch)).item<double>();
}

TEST(CharLstm, LearnsASingleName) {
  torch::manual_seed(0);
  CharLstm m(small());
  data::CharWindows w({"rex"}, 4);
  auto batch = w.get({0, 1, 2, 3});
  EXPECT_LT(fit(m, batch, 400), 0.05);
  GenerateOptions o;
  o.count = 3;
  o.temperature = 0.1;
  EXPECT_EQ(m.generate(o), (std::vector<std::string>{"rex", "rex", "rex"}));
}

TEST(CharLstm, LearnsANameLongerThanItsWindowAndGeneratesItAsTrained) {
  torch::manual_seed(0);
  CharLstmOptions options = whole_name_options();
  options.context = 4;  // "bartholomew" + stop: three windows
  CharLstm m(options);
  data::CharWindows w({"bartholomew"}, 4, data::WindowMode::kWholeName);
  auto batch = w.get({0, 1, 2});
  EXPECT_LT(fit(m, batch, 300), 0.05);
  GenerateOptions o;
  o.count = 2;
  o.temperature = 0.1;
  EXPECT_EQ(m.generate(o), (std::vector<std::string>{"bartholomew", "bartholomew"}));
}

TEST(CharLstm, RebuildsFromACheckpointOnTheCpuAndSamplesAsTheOriginal) {
  const std::filesystem::path dir = test::make_temp_dir("char_lstm_checkpoint");
  torch::manual_seed(0);
  const YAML::Node model_section = YAML::Load("{type: char_lstm, context: 4, hidden: 16, layers: 2, dropout: 0.0}");
  CharLstm original(model_section);
  YAML::Node config;
  config["model"] = model_section;
  save_checkpoint(checkpoint_path(dir, 7), original, nullptr, {{0, 7, 7}, YAML::Dump(config), "test"});

  const LoadedModel loaded = load_model_from_checkpoint(dir);  // a folder: its newest checkpoint
  EXPECT_EQ(loaded.path, checkpoint_path(dir, 7));
  EXPECT_EQ(loaded.info.position.global_step, 7);
  EXPECT_EQ(loaded.type(), "char_lstm");
  EXPECT_FALSE(loaded.model->is_training());
  for (const auto& p : loaded.model->parameters()) EXPECT_TRUE(p.is_cpu());
  GenerateOptions o;
  o.count = 5;
  o.seed = 11;
  EXPECT_EQ(loaded.as<TextGenerator>("generate text").generate(o), original.generate(o));
  try {
    loaded.as<SurvivalPredictor>("predict survival");
    FAIL() << "a char_lstm predicts no survival";
  } catch (const BadInput& e) {
    EXPECT_STREQ(e.what(), "model 'char_lstm' does not predict survival");
  }
  EXPECT_THROW(load_model_from_checkpoint(dir / "missing"), BadInput);
  std::filesystem::remove_all(dir);
}

TEST(CharLstm, SamplesTheSameNamesOnTheCpuAndOnAGpu_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  // TF32 in cuDNN's LSTM moves probabilities by about 1e-3, enough to change a
  // draw now and then; in full float32 the two devices differ by rounding only.
  const bool tf32 = at::globalContext().allowTF32CuDNN();
  at::globalContext().setAllowTF32CuDNN(false);
  torch::manual_seed(0);
  CharLstm cpu(small()), gpu(small());
  {
    torch::NoGradGuard g;
    const auto from = cpu.parameters(), to = gpu.parameters();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  gpu.to(torch::Device(torch::kCUDA, 0));
  GenerateOptions o;
  o.count = 32;
  o.seed = 7;
  o.prefix = "b";
  const auto on_cpu = cpu.generate(o), on_gpu = gpu.generate(o);
  at::globalContext().setAllowTF32CuDNN(tf32);
  EXPECT_EQ(on_cpu, on_gpu);
  for (const auto& p : gpu.parameters()) EXPECT_TRUE(p.is_cuda()) << "sampling leaves the model where it is";
}

/// A char_lstm, identical on every rank, and its metrics over 19 names'
/// windows (121, uneven over two ranks), batches of 8.
MetricValues evaluate_char_lstm(dist::Communicator& comm) {
  torch::manual_seed(5);
  CharLstm m(small());
  std::vector<std::string> names = {"rex",   "bella", "max",  "luna",   "mr. whiskers", "jean-luc", "bo",
                                    "coco",  "daisy", "ziggy", "oreo",  "pickles",      "sir barks", "tom",
                                    "kitty", "ab",    "buddy", "ginger", "maximilian"};
  auto values = evaluate_model(m, data::CharWindows(names, 4), 8, comm);
  values["whole_name_nll"] = evaluate_model(m, data::CharWindows(names, 4, data::WindowMode::kWholeName), 3, comm).at("nll");
  return values;
}

TANDEM_TEST_WORKER(char_lstm_eval) {
  auto world = dist::world_from_env();
  dist::DistOptions gloo;
  gloo.timeout = std::chrono::seconds(60);
  auto comm = dist::connect(world, gloo);
  const auto metrics = evaluate_char_lstm(*comm);
  std::ofstream(std::string(std::getenv("TEST_OUT_DIR")) + "/rank" + std::to_string(world.rank) + ".txt")
      << std::setprecision(17) << metrics.at("nll") << " " << metrics.at("perplexity") << " "
      << metrics.at("window_loss") << " " << metrics.at("whole_name_nll") << "\n";
  comm->barrier()->wait();
  return 0;
}

TEST(CharLstmDdp, TwoRanksScoreTheirShardsAndGiveTheSingleProcessNll) {
  const std::string out = test::make_temp_dir("char_lstm_eval");
  auto result = test::run_workers_of_this_binary("char_lstm_eval", 2, {{"TEST_OUT_DIR", out}});
  ASSERT_EQ(result.exit_code, 0) << result.failure;
  auto local = dist::make_local_communicator();
  const auto single = evaluate_char_lstm(*local);
  for (int rank = 0; rank < 2; ++rank) {
    std::ifstream in(out + "/rank" + std::to_string(rank) + ".txt");
    double nll, perplexity, window_loss, whole_name_nll;
    ASSERT_TRUE(in >> nll >> perplexity >> window_loss >> whole_name_nll) << "rank " << rank;
    // Each rank's float32 forward sees other batches: equal to rounding.
    EXPECT_NEAR(nll, single.at("nll"), 1e-6) << "rank " << rank;
    EXPECT_NEAR(perplexity, single.at("perplexity"), 1e-5) << "rank " << rank;
    EXPECT_NEAR(window_loss, single.at("window_loss"), 1e-6) << "rank " << rank;
    EXPECT_NEAR(whole_name_nll, single.at("whole_name_nll"), 1e-6) << "rank " << rank;
  }
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace tandem::models
