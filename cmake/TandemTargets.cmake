# Helpers shared by every folder's CMakeLists.txt.

# The precompiled LibTorch header lives on one small target; every target that
# includes torch reuses it, so <torch/torch.h> is parsed once per build.
function(tandem_use_pch target)
  if(TANDEM_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM tandem_pch)
  endif()
endfunction()

# tandem_unity_group(TARGET GROUP SOURCE...)
# Compiles these sources of TARGET as one translation unit (a CMake unity build
# in GROUP mode; sources of TARGET in no group still compile one by one).
# Every translation unit that includes LibTorch pays about 10 s of CPU even with
# the precompiled header: GCC cannot store the header's pending template
# instantiations in the .gch, so it redoes them at the end of each unit, and
# each unit also compiles its own copy of the torch inline code it uses. Fewer,
# larger LibTorch units therefore build much faster. A merged unit uses the
# target's precompiled header even where a member source sets
# SKIP_PRECOMPILE_HEADERS, so group mostly sources that include LibTorch.
# -DTANDEM_UNITY_BUILD=OFF compiles every source on its own (quicker rebuilds
# while editing one file).
function(tandem_unity_group target group)
  if(TANDEM_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
    set_source_files_properties(${ARGN} PROPERTIES UNITY_GROUP ${group})
  endif()
endfunction()

# tandem_add_library(NAME [TORCH] SOURCES ... DEPS ...)
# TORCH: the target uses LibTorch and gets the shared precompiled header.
# Builds tandem_<name> with alias tandem::<name>, headers found from the repo root
# (#include "framework/core/error.h") in the build and from include/ once installed
# (the public ones: tandem_public_headers).
function(tandem_add_library name)
  cmake_parse_arguments(ARG "TORCH" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tandem_${name} STATIC ${ARG_SOURCES})
  add_library(tandem::${name} ALIAS tandem_${name})
  set_target_properties(tandem_${name} PROPERTIES EXPORT_NAME ${name})
  # Exported, so a consumer of the installed headers compiles them as C++17 too.
  target_compile_features(tandem_${name} PUBLIC cxx_std_17)
  target_include_directories(tandem_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/tandem>)
  target_link_libraries(tandem_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  if(ARG_TORCH)
    target_link_libraries(tandem_${name} PUBLIC ${TANDEM_TORCH_LIBS})
    tandem_use_pch(tandem_${name})
  endif()
  install(TARGETS tandem_${name} EXPORT TandemTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

# tandem_public_headers(HEADER...)
# Installs these headers of the current folder (paths relative to it) under
# include/tandem/<folder>/, where a user project finds them as in the tree
# (#include "framework/train/model.h"). Only the headers listed are installed:
# the rest are internal (a c10d backend, a wire format, the trainer's helpers)
# and may change freely. A public header may include only public headers;
# tests/install/check_headers.sh checks the installed set.
function(tandem_public_headers)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  foreach(header IN LISTS ARGN)
    get_filename_component(dir "${header}" DIRECTORY)
    install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tandem/${rel}/${dir})
  endforeach()
endfunction()

# A library whose objects register themselves (models, datasets) must be linked
# whole, or the linker drops objects nobody references and with them their
# registrations. tandem::<name> is an interface target that does exactly that.
function(tandem_add_registering_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  tandem_add_library(${name}_objects TORCH SOURCES ${ARG_SOURCES} DEPS ${ARG_DEPS})
  add_library(tandem_${name} INTERFACE)
  add_library(tandem::${name} ALIAS tandem_${name})
  set_target_properties(tandem_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(tandem_${name} INTERFACE
    "$<LINK_LIBRARY:WHOLE_ARCHIVE,tandem::${name}_objects>")
  install(TARGETS tandem_${name} EXPORT TandemTargets)
endfunction()
