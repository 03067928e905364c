# Finds LibTorch and wraps it in tandem::torch, the one target through which
# every Tandem library, test and program links it.
#
# Any LibTorch works: Debian's libtorch-dev (1.13, CPU), the LibTorch zip or the
# one inside a pip-installed torch (2.x), given by CMAKE_PREFIX_PATH
# (docs/getting-started.md). A CUDA build of LibTorch 2.x needs a CUDA toolkit
# of the same major version at configure time: its TorchConfig.cmake enables
# the CUDA language and looks for CUDAToolkit (nvcc on PATH, CUDA_HOME or
# /usr/local/cuda).

find_package(Torch REQUIRED)

# TorchConfig.cmake looks for libc10 (and a few others) with find_library(),
# which searches the system's library directories before the package's own
# lib/. With Debian's libtorch-dev installed and a LibTorch 2.x given as
# <torch>/share/cmake (what torch.utils.cmake_prefix_path says), that links
# Debian's 1.13 libc10.so into a 2.x build. Take every library that the
# package itself ships from the package.
set(TANDEM_TORCH_LINK_LIBRARIES "")
foreach(lib IN LISTS TORCH_LIBRARIES)
  if(IS_ABSOLUTE "${lib}" AND TORCH_INSTALL_PREFIX)
    get_filename_component(name "${lib}" NAME)
    set(own "${TORCH_INSTALL_PREFIX}/lib/${name}")
    if(EXISTS "${own}" AND NOT "${lib}" STREQUAL "${own}")
      message(STATUS "Tandem: linking ${own}, not ${lib} (found outside this LibTorch)")
      set(lib "${own}")
    endif()
  endif()
  list(APPEND TANDEM_TORCH_LINK_LIBRARIES "${lib}")
endforeach()

add_library(tandem_torch INTERFACE)
add_library(tandem::torch ALIAS tandem_torch)
set_target_properties(tandem_torch PROPERTIES EXPORT_NAME torch)
target_link_libraries(tandem_torch INTERFACE ${TANDEM_TORCH_LINK_LIBRARIES})

# libstdc++ first among every executable's shared libraries. The libtorch.so of
# PyPI's torch wheels (2.x) carries a copy of libstdc++'s std::filesystem and
# exports it without a symbol version; the dynamic linker binds a program's
# std::filesystem calls to the first library in its search order that defines
# them, and by default the compiler driver adds -lstdc++ last, after LibTorch.
# That copy then ran, and jumped to address 0 (std::filesystem::remove_all in
# the DDP test driver). Named first, libstdc++.so.6 is searched before any
# LibTorch library. tests/link/check_binaries.sh fails if a binary regresses.
# Link options come before objects and libraries on the link line; SHELL: keeps
# CMake from de-duplicating -lstdc++ away. Harmless with LibTorch 1.13.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_link_options(tandem_torch INTERFACE
    "SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")
endif()

# The system's fmt before LibTorch's. PyPI's LibTorch 2.x ships fmt headers
# (fmt 12) in its include/, an -isystem directory that the compiler searches
# before /usr/include, where Debian's fmt 9 lives: the headers of the libfmt
# Tandem links (libfmt.so.9). A directory of our own that holds only a link to
# the system's fmt, given as -I, is searched before every -isystem directory.
# LibTorch's own headers that use fmt (a few in c10d) then see fmt 9 too; they
# compile, and fmt's versioned namespace (fmt::v9, fmt::v12) keeps the two
# libraries' symbols apart.
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt")
  find_package(fmt REQUIRED)
  get_target_property(fmt_includes fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  list(GET fmt_includes 0 fmt_include)
  if(NOT EXISTS "${fmt_include}/fmt/format.h")
    message(FATAL_ERROR "Tandem: fmt's headers are not in ${fmt_include}/fmt")
  endif()
  set(fmt_first "${PROJECT_BINARY_DIR}/fmt-first")
  file(MAKE_DIRECTORY "${fmt_first}")
  file(CREATE_LINK "${fmt_include}/fmt" "${fmt_first}/fmt" SYMBOLIC)
  target_include_directories(tandem_torch BEFORE INTERFACE
    $<BUILD_INTERFACE:${fmt_first}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/tandem/fmt-first>)
  install(DIRECTORY "${fmt_first}/" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tandem/fmt-first)
  message(STATUS "Tandem: ${fmt_include}/fmt (fmt::fmt) before ${TORCH_INSTALL_PREFIX}/include/fmt")
endif()

install(TARGETS tandem_torch EXPORT TandemTargets)
