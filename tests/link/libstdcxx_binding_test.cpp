// A binary linked against LibTorch the way every Tandem binary is
// (tandem::torch, cmake/TandemTorch.cmake) calls libstdc++'s std::filesystem,
// not a copy that LibTorch exports. PyPI's LibTorch 2.x carries such a copy in
// libtorch.so; bound to it, std::filesystem::remove_all jumped to address 0.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tandem {
namespace {

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

/// The shared objects of this process, in the dynamic linker's search order.
std::vector<std::string> loaded_objects() {
  std::vector<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        if (info->dlpi_name != nullptr && *info->dlpi_name != '\0') {
          static_cast<std::vector<std::string>*>(out)->push_back(file_name(info->dlpi_name));
        }
        return 0;
      },
      &names);
  return names;
}

std::ptrdiff_t position(const std::vector<std::string>& names, const std::string& prefix) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].rfind(prefix, 0) == 0) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

TEST(LibstdcxxBinding, LibstdcxxIsSearchedBeforeLibTorch) {
  const auto names = loaded_objects();
  std::string all;
  for (const auto& n : names) all += n + " ";
  const auto libstdcxx = position(names, "libstdc++.so");
  const auto libtorch = position(names, "libtorch");
  ASSERT_GE(libtorch, 0) << "LibTorch is not loaded, so this test checks nothing; loaded: " << all;
  ASSERT_GE(libstdcxx, 0) << "loaded: " << all;
  EXPECT_LT(libstdcxx, libtorch) << "libstdc++ must come before LibTorch in the search order "
                                    "(cmake/TandemTorch.cmake); loaded: "
                                 << all;
}

TEST(LibstdcxxBinding, FilesystemResolvesIntoLibstdcxx) {
  // The address the dynamic linker bound this binary's reference to.
  using RemoveAll = std::uintmax_t (*)(const std::filesystem::path&);
  const RemoveAll remove_all = &std::filesystem::remove_all;
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(remove_all), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  EXPECT_EQ(file_name(info.dli_fname).rfind("libstdc++.so", 0), 0u)
      << "std::filesystem::remove_all resolves into " << info.dli_fname << ", not libstdc++";
}

TEST(LibstdcxxBinding, RemoveAllRemovesARealDirectoryTree) {
  std::string pattern = (std::filesystem::temp_directory_path() / "tandem-link-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path root = pattern;
  std::filesystem::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "b" / "file.txt") << "x";
  std::ofstream(root / "top.txt") << "y";
  EXPECT_EQ(std::filesystem::remove_all(root), 5u);  // root, a, b and two files
  EXPECT_FALSE(std::filesystem::exists(root));
}

}  // namespace
}  // namespace tandem
