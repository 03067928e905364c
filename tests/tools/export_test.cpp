// `tandem export --format safetensors`: the file is parsed back here, byte by
// byte, and compared with the checkpoint's tensors; and read by Python.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/multiprocess.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

/// Every tensor of a saved module, by dotted name (written independently of the exporter's walk).
void tensors_of(torch::serialize::InputArchive& a, const std::string& prefix, std::map<std::string, torch::Tensor>& out) {
  for (const auto& key : a.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive child;
    if (a.try_read(key, t, false) || a.try_read(key, t, true)) {
      out[prefix + key] = t;
    } else if (a.try_read(key, child)) {
      tensors_of(child, prefix + key + ".", out);
    }
  }
}

class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("export");
    std::ofstream(dir_ / "r.yaml") << "model: {type: char_lstm, context: 8, hidden: 16, layers: 1}\n"
                                   << "data: {type: names, path: " << TANDEM_SOURCE_DIR
                                   << "/data/corpora/names.txt, context: 8, val_fraction: 0.1}\n"
                                   << "trainer: {epochs: 1, max_steps: 3, batch_size: 16, samples_at_end: 0}\n";
    auto r = test::run_command(fmt::format("timeout -k 5 120 {} train {} --run-dir {}", TANDEM_EXE,
                                           (dir_ / "r.yaml").string(), (dir_ / "run").string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Export, SafetensorsHoldsEveryTensorOfTheCheckpointBitForBit) {
  const fs::path out = dir_ / "model.safetensors";
  auto r = test::run_command(fmt::format("{} export --checkpoint {} --format safetensors --output {}", TANDEM_EXE,
                                         (dir_ / "run").string(), out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  std::ifstream in(out, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  ASSERT_EQ(n % 8, 0u) << "the header is padded to 8 bytes";
  ASSERT_LE(8 + n, bytes.size());
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  const std::string data = bytes.substr(8 + n);

  std::map<std::string, torch::Tensor> expected;
  fs::path ckpt;
  for (const auto& e : fs::directory_iterator(dir_ / "run" / "checkpoints")) ckpt = e.path();
  torch::serialize::InputArchive archive, model;
  archive.load_from(ckpt.string());
  archive.read("model", model);
  tensors_of(model, "", expected);
  ASSERT_FALSE(expected.empty());

  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  EXPECT_EQ(header["__metadata__"]["global_step"], "3");
  // The model's options (char_lstm's calibration_temperature among them), and nothing of the run's.
  const auto options = YAML::Load(header["__metadata__"]["model"].get<std::string>());
  EXPECT_EQ(options["type"].as<std::string>(), "char_lstm");
  EXPECT_EQ(options["calibration_temperature"].as<double>(), 1.0);
  EXPECT_FALSE(options["trainer"]) << header["__metadata__"]["model"];
  EXPECT_EQ(header.size(), expected.size() + 1) << header.dump();
  uint64_t covered = 0;
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(header.contains(name)) << name << " missing from " << header.dump();
    const auto& entry = header[name];
    EXPECT_EQ(entry["dtype"], "F32") << name;
    EXPECT_EQ(entry["shape"].get<std::vector<int64_t>>(), t.sizes().vec()) << name;
    const auto begin = entry["data_offsets"][0].get<uint64_t>(), end = entry["data_offsets"][1].get<uint64_t>();
    ASSERT_EQ(end - begin, t.nbytes()) << name;
    ASSERT_LE(end, data.size());
    auto copy = torch::empty_like(t);
    std::memcpy(copy.data_ptr(), data.data() + begin, end - begin);
    EXPECT_TRUE(torch::equal(copy, t)) << name;
    covered += end - begin;
  }
  EXPECT_EQ(covered, data.size()) << "the data holds the tensors and nothing else";

  // Python: the safetensors package when installed, else a json+struct reader.
  if (std::system("test -x /usr/bin/python3") != 0) GTEST_SKIP() << "no /usr/bin/python3";
  const std::string script =
      "import json,struct,sys\n"
      "p=sys.argv[1]\n"
      "try:\n"
      "  from safetensors.numpy import load_file\n"
      "  out={k:[list(v.shape),float(v.astype('float64').sum())] for k,v in load_file(p).items()}\n"
      "except ImportError:\n"
      "  b=open(p,'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); d=b[8+n:]; out={}\n"
      "  for k,v in h.items():\n"
      "    if k=='__metadata__': continue\n"
      "    s,e=v['data_offsets']; vals=struct.unpack('<%df'%((e-s)//4), d[s:e])\n"
      "    out[k]=[v['shape'],sum(vals)]\n"
      "print(json.dumps(out))\n";
  std::ofstream(dir_ / "read.py") << script;
  auto py = test::run_command("/usr/bin/python3 " + (dir_ / "read.py").string() + " " + out.string());
  ASSERT_EQ(py.exit_code, 0) << py.output;
  const auto read_back = nlohmann::json::parse(py.output);
  EXPECT_EQ(read_back.size(), expected.size());
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(read_back.contains(name)) << name;
    EXPECT_EQ(read_back[name][0].get<std::vector<int64_t>>(), t.sizes().vec()) << name;
    EXPECT_NEAR(read_back[name][1].get<double>(), t.to(torch::kDouble).sum().item<double>(), 1e-9 + 1e-9 * t.numel())
        << name;
  }
}

TEST_F(Export, BadArgumentsAreClearErrors) {
  auto r = test::run_command(fmt::format("{} export --checkpoint {} --format onnx", TANDEM_EXE, (dir_ / "run").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("onnx"), std::string::npos) << r.output;
  r = test::run_command(fmt::format("{} export --checkpoint {} --format safetensors", TANDEM_EXE, (dir_ / "nothing").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no such file or directory"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tandem
