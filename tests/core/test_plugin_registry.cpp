// The plugin loader and the conformance suite: built plugins load and pass; broken libraries are refused
// with messages that name the file and the reason.
#include <prismer/core/conformance.h>
#include <prismer/core/plugin_registry.h>
#include <prismer/dataset.h>

#include "fixtures.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace prismer;

namespace {

fs::path env_path(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr)
    throw std::runtime_error(std::string(name) + " is not set: run this test through ctest, which names the build's folders");
  return value;
}
fs::path plugin_dir() { return env_path("PRISMER_PLUGIN_DIR"); }
fs::path bad_dir() { return env_path("PRISMER_BINARY_DIR") / "tests" / "bad_plugins"; }

std::string load_error(PluginRegistry& registry, const fs::path& file) {
  try {
    registry.load_file(file.string());
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every built plugin loads, and each passes its conformance checks") {
  PluginRegistry registry;
  registry.scan({plugin_dir().string()});
  CHECK(registry.problems().empty());
  const auto plugins = registry.list();
  REQUIRE(plugins.size() >= 1);
  CHECK(registry.find("image_folder") != nullptr);
  for (const PluginRecord* p : plugins) {
    prismer::test::announce_case(p->kind + " " + p->name);
    for (const CheckResult& r : validate_plugin(registry, *p, {}))
      CHECK_MESSAGE(r.passed, p->name << ": " << r.name << ": " << r.detail);
  }
}

TEST_CASE("a plugin reporting another API version is refused with both versions") {
  PluginRegistry registry;
  const fs::path file = bad_dir() / "prismer-plugin-bad_abi_plugin.so";
  REQUIRE(fs::exists(file));
  const std::string msg = load_error(registry, file);
  CHECK(msg.find(file.string()) == 0);
  CHECK(msg.find("wrong plugin API version: got " + std::to_string(PRISMER_PLUGIN_API_VERSION + 41) + ", supported " +
                 std::to_string(PRISMER_PLUGIN_API_VERSION)) != std::string::npos);
}

TEST_CASE("a library without the entry point is not a plugin") {
  PluginRegistry registry;
  const fs::path file = bad_dir() / "prismer-plugin-no_entry_plugin.so";
  REQUIRE(fs::exists(file));
  const std::string msg = load_error(registry, file);
  CHECK(msg.find(file.string()) == 0);
  CHECK(msg.find("not a Prismer plugin: the entry point prismerGetPluginInfo was not found") != std::string::npos);
}

TEST_CASE("a file that is not a library is refused without crashing; scanning records it") {
  const fs::path dir = fs::temp_directory_path() / "prismer-test-registry-junk";
  fs::create_directories(dir);
  std::ofstream(dir / "junk.so") << "definitely not ELF";
  PluginRegistry registry;
  const std::string msg = load_error(registry, dir / "junk.so");
  CHECK(msg.find("cannot load the library") != std::string::npos);
  PluginRegistry scanning;
  scanning.scan({dir.string(), bad_dir().string()});
  CHECK(scanning.list().empty());
  CHECK(scanning.problems().size() == 3);
}

TEST_CASE("two libraries with one plugin name: the second is refused naming both files") {
  const fs::path dir = fs::temp_directory_path() / "prismer-test-registry-dup";
  fs::create_directories(dir);
  const fs::path original = plugin_dir() / "prismer-plugin-image_folder.so";
  const fs::path copy = dir / "prismer-plugin-image_folder-copy.so";
  fs::copy_file(original, copy, fs::copy_options::overwrite_existing);
  PluginRegistry registry;
  registry.load_file(original.string());
  const std::string msg = load_error(registry, copy);
  CHECK(msg.find("plugin name 'image_folder' is defined twice") != std::string::npos);
  CHECK(msg.find(fs::canonical(original).string()) != std::string::npos);
  CHECK(msg.find(copy.string()) != std::string::npos);
}

TEST_CASE("unknown plugins and wrong kinds are explained") {
  PluginRegistry registry;
  registry.scan({plugin_dir().string()});
  try {
    registry.require("no_such_plugin", "expert");
    FAIL("no error");
  } catch (const PluginError& e) {
    CHECK(std::string(e.what()).find("unknown expert plugin 'no_such_plugin'") == 0);
  }
  try {
    registry.require("image_folder", "expert");
    FAIL("no error");
  } catch (const PluginError& e) {
    CHECK(std::string(e.what()).find("plugin 'image_folder' is a dataset, not a expert") == 0);
  }
}

TEST_CASE("a plugin's config is checked against its defaults before it is built") {
  PluginRegistry registry;
  registry.scan({plugin_dir().string()});
  const PluginRecord& rec = registry.require("image_folder", "dataset");
  const Config bad = Config::parse_string("plugin: image_folder\nroot: /nonexistent/folder\n", "inline.yaml");
  try {
    registry.create_as<Dataset>(rec, bad);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "inline.yaml:2:7: root: folder '/nonexistent/folder' does not exist");
  }
  const Config typo = Config::parse_string("plugin: image_folder\nrot: x\n", "inline.yaml");
  try {
    registry.create_as<Dataset>(rec, typo);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("inline.yaml:2:1: rot: unknown key 'rot'") == 0);
  }
}
