# Every third-party dependency, found once. All come from Debian packages that scripts/setup installs.
find_package(Torch REQUIRED)
# Debian's TorchConfig puts its flags (the C++ ABI define) in TORCH_CXX_FLAGS: every target must use them.
separate_arguments(PRISMER_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
add_library(prismer_torch INTERFACE)
target_link_libraries(prismer_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(prismer_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_compile_options(prismer_torch INTERFACE ${PRISMER_TORCH_CXX_FLAGS})

find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(cxxopts REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Boost REQUIRED COMPONENTS filesystem)
find_package(Threads REQUIRED)
# Data lists: simdjson for large JSON lists, libarchive (pkg-config) for webdataset .tar shards.
find_package(simdjson REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LibArchive REQUIRED IMPORTED_TARGET libarchive)
if(PRISMER_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
if(PRISMER_WITH_OPENCV)
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
endif()

# A precompiled <torch/torch.h> shared by every torch-heavy target (a torch include costs ~15 s per unit).
# Targets reuse it through prismer_use_torch_pch(); all of them are compiled with the same flags (-fPIC,
# hidden visibility), which GCC requires for a PCH to be used.
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)
file(WRITE ${CMAKE_BINARY_DIR}/pch/pch_anchor.cpp "// anchor for the torch precompiled header\n")
add_library(prismer_torch_pch STATIC ${CMAKE_BINARY_DIR}/pch/pch_anchor.cpp)
target_link_libraries(prismer_torch_pch PUBLIC prismer_torch PRIVATE prismer_warnings)
target_precompile_headers(prismer_torch_pch PRIVATE <torch/torch.h>)

function(prismer_use_torch_pch target)
  target_link_libraries(${target} PRIVATE prismer_torch prismer_warnings)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    # Executables would get -fPIE, which makes GCC reject the -fPIC header; -fPIC code links into a PIE fine.
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
  target_precompile_headers(${target} REUSE_FROM prismer_torch_pch)
endfunction()
