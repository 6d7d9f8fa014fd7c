// Config: typed access, defaults checking, and errors that carry file:line:column and the key path.
#include <prismer/config.h>

#include "fixtures.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>

namespace fs = std::filesystem;
using prismer::Config;
using prismer::ConfigError;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "prismer-test-config";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kDefaults =
    "root: \"\"\n"
    "batch_size: 4\n"
    "scale: 1.5\n"
    "shuffle: true\n"
    "name: images\n"
    "extensions: [.jpg]\n"
    "nested: {a: 1, b: x}\n"
    "free: {}\n"
    "anything: ~\n";

}  // namespace

TEST_CASE("typed values and defaults") {
  const std::string path = write_temp("ok.yaml", "batch_size: 8\nscale: 2\nnested:\n  a: 3\nfree: {x: 1, y: [1, 2]}\nanything: [1]\n");
  const Config cfg = Config::parse_file(path).with_defaults(Config::parse_string(kDefaults, "defaults"));
  CHECK(cfg.get<int>("batch_size") == 8);
  CHECK(cfg.get<double>("scale") == doctest::Approx(2.0));
  CHECK(cfg.get<bool>("shuffle") == true);
  CHECK(cfg.get<std::string>("name") == "images");
  CHECK(cfg["nested"].get<int>("a") == 3);
  CHECK(cfg["nested"].get<std::string>("b") == "x");
  CHECK(cfg.get<std::vector<std::string>>("extensions") == std::vector<std::string>{".jpg"});
  CHECK(cfg["free"].keys() == std::vector<std::string>{"x", "y"});
  CHECK(cfg.get<int>("missing", 7) == 7);
  CHECK(cfg["nested"]["a"].path() == "nested.a");
  CHECK(cfg["nested"]["a"].where() == path + ":4:6");
}

TEST_CASE("unknown key names file, line, column and the known keys") {
  const std::string path = write_temp("unknown.yaml", "batch_size: 8\nnested:\n  a: 1\n  typo: 2\n");
  const std::string msg = error_of([&] { Config::parse_file(path).with_defaults(Config::parse_string(kDefaults, "defaults")); });
  CHECK(msg.find(path + ":4:3: nested.typo: unknown key 'typo'") == 0);
  CHECK(msg.find("known keys: a, b") != std::string::npos);
}

TEST_CASE("wrong types are reported with position and expectation") {
  const std::string path = write_temp("types.yaml", "batch_size: eight\n");
  std::string msg = error_of([&] { Config::parse_file(path).with_defaults(Config::parse_string(kDefaults, "defaults")); });
  CHECK(msg == path + ":1:13: batch_size: expected an integer, got 'eight'");

  const std::string path2 = write_temp("types2.yaml", "shuffle: 3\nnested: [1, 2]\n");
  msg = error_of([&] { Config::parse_file(path2).with_defaults(Config::parse_string(kDefaults, "defaults")); });
  CHECK(msg == path2 + ":1:10: shuffle: expected true or false, got '3'");

  const std::string path3 = write_temp("types3.yaml", "nested: [1, 2]\n");
  msg = error_of([&] { Config::parse_file(path3).with_defaults(Config::parse_string(kDefaults, "defaults")); });
  CHECK(msg == path3 + ":1:9: nested: expected a map, got a list");

  const Config cfg = Config::parse_file(write_temp("types4.yaml", "n: abc\n"));
  msg = error_of([&] { (void)cfg.get<double>("n"); });
  CHECK(msg.find(":1:4: n: expected a number, got 'abc'") != std::string::npos);
  msg = error_of([&] { (void)cfg.get<int>("absent"); });
  CHECK(msg.find("missing required key 'absent'") != std::string::npos);
}

TEST_CASE("YAML syntax errors carry the position") {
  const std::string path = write_temp("syntax.yaml", "a: 1\nb: [1, 2\nc: 3\n");
  const std::string msg = error_of([&] { Config::parse_file(path); });
  CHECK(msg.rfind(path + ":", 0) == 0);
  CHECK(msg.find("invalid YAML") != std::string::npos);
  CHECK(error_of([&] { Config::parse_file("/nonexistent/x.yaml"); }).find("cannot open") != std::string::npos);
}

TEST_CASE("--set overrides create nested keys and index lists") {
  Config cfg = Config::parse_string("a: {b: 1}\nlist: [{x: 1}, {x: 2}]\n", "inline");
  cfg.set("a.b", "5");
  cfg.set("a.c.d", "hello");
  cfg.set("list.1.x", "9");
  CHECK(cfg["a"].get<int>("b") == 5);
  CHECK(cfg["a"]["c"].get<std::string>("d") == "hello");
  CHECK(cfg["list"][1].get<int>("x") == 9);
  CHECK(error_of([&] { cfg.set("list.7.x", "1"); }).find("past the end") != std::string::npos);
  CHECK(error_of([&] { cfg.set("a..b", "1"); }).find("empty key") != std::string::npos);
}
