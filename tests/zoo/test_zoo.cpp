// The model zoo: downloads from a local HTTP server (tests/zoo/zoo_server.py, started and stopped here),
// resume, failures, `zoo list`, `zoo verify`, the manifest, the `zoo:NAME` resolver and the plugins' file settings.
#include "common/file_setting.h"

#include <doctest/doctest.h>

#include <prismer/zoo/commands.h>
#include <prismer/zoo/download.h>
#include <prismer/zoo/manifest.h>
#include <prismer/zoo/sha256.h>
#include <prismer/zoo/verified.h>
#include <prismer/zoo/zoo.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace zoo = prismer::zoo;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

/// The local HTTP server: started on first use, stopped (SIGTERM, then SIGKILL) when the tests end.
class TestServer {
 public:
  TestServer() {
    base_ = fs::temp_directory_path() / ("prismer_zoo_test_" + std::to_string(getpid()));
    fs::remove_all(base_);
    root_ = base_ / "www";
    fs::create_directories(root_);
    // Files the server offers.
    good_ = random_bytes(300000, 1);
    flaky_ = random_bytes(200000, 2);
    bad_ = random_bytes(5000, 3);
    unknown_ = random_bytes(7000, 4);
    write_all(root_ / "models/good+model.bin", good_);
    write_all(root_ / "experts/flaky.bin", flaky_);
    write_all(root_ / "aux/bad.bin", bad_);
    write_all(root_ / "aux/unknown.bin", unknown_);

    const fs::path script = fs::path(PRISMER_SOURCE_DIR) / "tests/zoo/zoo_server.py";
    const fs::path port_file = base_ / "port";
    log_ = base_ / "requests.log";
    pid_ = fork();
    if (pid_ == 0) {
      execlp("python3", "python3", script.c_str(), "--root", root_.c_str(), "--port-file", port_file.c_str(), "--log",
             log_.c_str(), "--lifetime", "240", static_cast<char*>(nullptr));
      _exit(127);
    }
    REQUIRE_MESSAGE(pid_ > 0, "fork failed");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(port_file)) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("the test HTTP server (python3 " << script.string() << ") exited early");
      }
      if (std::chrono::steady_clock::now() > deadline) FAIL("the test HTTP server did not start within 20 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    port_ = std::stoi(read_all(port_file));
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    write_manifest();
  }

  ~TestServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  void write_manifest() {
    const std::string wrong = zoo::sha256_bytes("not the file");
    std::ostringstream m;
    m << "base_url: http://127.0.0.1:9/not-used\n"
      << "bases:\n  other: http://127.0.0.1:9/other\n"
      << "entries:\n"
      << "  - {name: good_model, kind: model, path: models/good+model.bin, file: good_model/pytorch_model.bin,\n"
      << "     size: " << good_.size() << ", sha256: " << zoo::sha256_bytes(good_) << ", licence: CC-BY-NC-SA-4.0}\n"
      << "  - {name: flaky_expert, kind: expert, path: drop/experts/flaky.bin, file: expert_weights/flaky.bin,\n"
      << "     size: " << flaky_.size() << ", sha256: " << zoo::sha256_bytes(flaky_) << ", licence: test}\n"
      << "  - {name: missing_aux, kind: aux, path: aux/missing.bin, size: null, sha256: null, licence: test}\n"
      << "  - {name: bad_sum, kind: aux, path: aux/bad.bin, size: " << bad_.size() << ", sha256: " << wrong
      << ", licence: test}\n"
      << "  - {name: unknown_sum, kind: aux, base: other, path: aux/unknown.bin, file: aux/unknown.bin, size: null,\n"
      << "     sha256: null, licence: test}\n";
    manifest_ = (base_ / "zoo-test.yaml").string();
    write_all(manifest_, m.str());
  }

  /// A fresh, empty zoo folder.
  std::string new_dir(const std::string& name) const {
    const fs::path d = base_ / "zoo" / name;
    fs::remove_all(d);
    return d.string();
  }
  std::string log() const { return read_all(log_); }

  fs::path base_, root_, log_;
  std::string good_, flaky_, bad_, unknown_, url_, manifest_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TestServer& server() {
  static TestServer instance;
  return instance;
}

struct Result {
  int rc;
  std::string out, err;
};

/// Runs a command function with captured std::cout / std::cerr.
Result run(int (*command)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  int rc = -1;
  try {
    rc = command(static_cast<int>(args.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    throw;
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  // The transcript goes to the real stderr: ctest shows it when a test fails.
  std::cerr << "$ prismer";
  for (const auto& a : args) std::cerr << " " << a;
  std::cerr << "  -> " << rc << "\n" << out.str() << err.str() << "\n";
  return {rc, out.str(), err.str()};
}

/// `prismer download` against the test server with the test manifest.
Result download(const std::string& dir, std::vector<std::string> extra) {
  auto& s = server();
  std::vector<std::string> args = {"download", "--dir", dir, "--manifest", s.manifest_, "--mirror", s.url_,
                                   "--retry-delay", "0.05", "--no-progress"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run(&zoo::run_download_command, args);
}

Result zoo_cmd(std::vector<std::string> args) {
  args.insert(args.begin(), "zoo");
  return run(&zoo::run_zoo_command, args);
}

}  // namespace

TEST_CASE("the built-in manifest lists the original's 12 checkpoints and 7 expert files") {
  const zoo::Manifest m = zoo::load_manifest(fs::path(PRISMER_SOURCE_DIR) / "configs/zoo.yaml");
  const zoo::Manifest builtin = zoo::parse_manifest(zoo::builtin_manifest_text(), "<built-in>");
  CHECK(builtin.entries.size() == m.entries.size());
  int models = 0, experts = 0;
  for (const auto& e : m.entries) {
    if (e.kind == zoo::Kind::model) {
      ++models;
      CHECK(e.licence == "CC-BY-NC-SA-4.0");
      CHECK(e.file == e.name + "/pytorch_model.bin");
    }
    if (e.kind == zoo::Kind::expert) ++experts;
  }
  CHECK(models == 12);
  CHECK(experts == 7);
  for (const char* name : {"pretrain_prismer_base", "pretrain_prismerz_large", "caption_prismer_base",
                           "caption_prismerz_large", "vqa_prismer_large", "vqa_prismerz_base"})
    CHECK_MESSAGE(m.find(name) != nullptr, name);
  for (const char* file : {"dpt_hybrid-midas-501f0c75.pt", "scannet.pt", "10_model.pth", "model_final_f07440.pkl",
                           "model_final_e0c58e.pkl", "Unified_learned_OCIM_RS200_6x+2x.pth",
                           "icdar2015_hourglass88.pth"}) {
    bool found = false;
    for (const auto& e : m.entries) found |= e.path == std::string("expert_weights/") + file;
    CHECK_MESSAGE(found, file);
  }
  for (const char* aux : {"coco_features", "ade_features", "detection_features", "background_features", "clip_pca",
                          "ocr_lexicon", "roberta_base_vocab", "roberta_large_merges", "clip_vit_b16"})
    CHECK_MESSAGE(m.find(aux) != nullptr, aux);
  CHECK(m.url(*m.find("caption_prismer_base")) ==
        "https://huggingface.co/shikunl/prismer/resolve/main/caption_prismer_base/pytorch_model.bin");
  CHECK(m.url(*m.find("expert_obj_detection"), "http://mirror/x/") ==
        "http://mirror/x/expert_weights/Unified_learned_OCIM_RS200_6x%2B2x.pth");
}

TEST_CASE("manifest errors name the entry and key") {
  CHECK_THROWS_WITH_AS(zoo::parse_manifest("base_url: x\nentries:\n  - {name: a, kind: weird, path: p}\n", "m.yaml"),
                       doctest::Contains("m.yaml:3"), zoo::ZooError);
  CHECK_THROWS_WITH_AS(zoo::parse_manifest("base_url: x\nentries:\n  - {name: a, kind: aux, path: p, sha256: abc}\n", "m"),
                       doctest::Contains("sha256"), zoo::ZooError);
  CHECK_THROWS_WITH_AS(zoo::parse_manifest("base_url: x\nentries:\n  - {name: a, kind: aux, path: p, colour: red}\n", "m"),
                       doctest::Contains("unknown key 'colour'"), zoo::ZooError);
}

TEST_CASE("SHA-256 through OpenSSL") {
  CHECK(zoo::sha256_bytes("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(zoo::sha256_bytes("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("full download, then present") {
  auto& s = server();
  const std::string dir = s.new_dir("full");
  const Result r = download(dir, {"--models", "good_model"});
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "Total download size: " + zoo::human_size(s.good_.size())));
  CHECK(contains(r.out, "sha256 verified"));
  const fs::path file = fs::path(dir) / "good_model/pytorch_model.bin";
  CHECK(read_all(file) == s.good_);
  CHECK_FALSE(fs::exists(file.string() + ".part"));
  CHECK(contains(s.log(), "HEAD /models/good%2Bmodel.bin"));

  const Result again = download(dir, {"--models", "good_model"});
  CHECK(again.rc == 0);
  CHECK(contains(again.out, "present: good_model"));
  CHECK(contains(again.out, "Nothing to download"));
}

TEST_CASE("resume after a dropped connection") {
  auto& s = server();
  const std::string dir = s.new_dir("resume");
  const Result r = download(dir, {"--models", "flaky_expert"});
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "dropped"));
  CHECK(contains(r.out, "retrying"));
  CHECK(read_all(fs::path(dir) / "expert_weights/flaky.bin") == s.flaky_);
  // The retry asked only for the missing half.
  CHECK(contains(s.log(), "GET /drop/experts/flaky.bin bytes=" + std::to_string(s.flaky_.size() / 2) + "-"));
}

TEST_CASE("resume from a partial file left by an earlier run") {
  auto& s = server();
  const std::string dir = s.new_dir("partial");
  const fs::path file = fs::path(dir) / "good_model/pytorch_model.bin";
  write_all(file.string() + ".part", s.good_.substr(0, 123456));
  const Result list = zoo_cmd({"list", "--dir", dir, "--manifest", s.manifest_});
  CHECK(contains(list.out, "partial 41%"));
  const Result r = download(dir, {"good_model"});
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "resuming good_model"));
  CHECK(contains(s.log(), "GET /models/good%2Bmodel.bin bytes=123456-"));
  CHECK(read_all(file) == s.good_);
  CHECK_FALSE(fs::exists(file.string() + ".part"));
}

TEST_CASE("a missing file (404) is explained and leaves nothing behind") {
  auto& s = server();
  const std::string dir = s.new_dir("404");
  const Result r = download(dir, {"--models", "missing_aux"});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "missing_aux"));
  CHECK(contains(r.err, "not found (HTTP 404)"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "aux/missing.bin"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "aux/missing.bin.part"));
}

TEST_CASE("a checksum mismatch leaves nothing under the final name") {
  auto& s = server();
  const std::string dir = s.new_dir("mismatch");
  const Result r = download(dir, {"--models", "bad_sum,good_model"});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "bad_sum: checksum mismatch"));
  CHECK(contains(r.out, "1 downloaded"));
  CHECK(contains(r.out, "1 failed"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "aux/bad.bin"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "aux/bad.bin.part"));
  CHECK(fs::exists(fs::path(dir) / "good_model/pytorch_model.bin"));
}

TEST_CASE("network failures are explained in one line") {
  auto& s = server();
  const std::string dir = s.new_dir("offline");
  // No --mirror: the manifest's base (port 9 on 127.0.0.1) refuses connections.
  const Result r = run(&zoo::run_download_command,
                       {"download", "--dir", dir, "--manifest", s.manifest_, "--models", "good_model", "--retries", "1",
                        "--retry-delay", "0.01", "--no-progress"});
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "cannot connect to 127.0.0.1:9"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "good_model"));
}

TEST_CASE("bad usage exits with 2") {
  auto& s = server();
  CHECK(run(&zoo::run_download_command, {"download", "--manifest", s.manifest_}).rc == 2);
  const Result unknown = run(&zoo::run_download_command, {"download", "--manifest", s.manifest_, "--models", "nope"});
  CHECK(unknown.rc == 2);
  CHECK(contains(unknown.err, "known: good_model"));
  CHECK(run(&zoo::run_download_command, {"download", "--bogus"}).rc == 2);
  CHECK(zoo_cmd({}).rc == 2);
  CHECK(zoo_cmd({"frobnicate"}).rc == 2);
  CHECK(zoo_cmd({"list", "--kind", "nope"}).rc == 2);
}

TEST_CASE("zoo list works offline") {
  auto& s = server();
  const std::string dir = s.new_dir("list");
  REQUIRE(download(dir, {"--models", "good_model"}).rc == 0);
  const std::string log_before = s.log();
  const Result r = zoo_cmd({"list", "--dir", dir, "--manifest", s.manifest_});
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "good_model"));
  CHECK(contains(r.out, "present"));
  CHECK(contains(r.out, "missing"));
  CHECK(contains(r.out, "CC-BY-NC-SA-4.0"));
  CHECK(contains(r.out, "1 of 5 present"));
  CHECK(s.log() == log_before);  // no request was made

  const Result json = zoo_cmd({"list", "--dir", dir, "--manifest", s.manifest_, "--json", "--kind", "model"});
  CHECK(json.rc == 0);
  CHECK(contains(json.out, "\"state\": \"present\""));
  CHECK_FALSE(contains(json.out, "flaky_expert"));

  // The built-in manifest, an empty folder.
  const Result builtin = zoo_cmd({"list", "--dir", s.new_dir("empty")});
  CHECK(builtin.rc == 0);
  CHECK(contains(builtin.out, "caption_prismer_base"));
  CHECK(contains(builtin.out, "expert_obj_detection"));
  CHECK(contains(builtin.out, "0 of "));
  CHECK(contains(builtin.out, "never bundled"));
}

TEST_CASE("zoo verify records unknown checksums, then checks against the record") {
  auto& s = server();
  const std::string dir = s.new_dir("verify");
  const Result d = download(dir, {"--models", "unknown_sum,good_model"});
  REQUIRE(d.rc == 0);
  CHECK(contains(d.out, "no published checksum: run 'prismer zoo verify'"));

  const Result first = zoo_cmd({"verify", "--dir", dir, "--manifest", s.manifest_});
  CHECK(first.rc == 0);
  CHECK(contains(first.out, "RECORDED  unknown_sum"));
  CHECK(contains(first.out, "OK        good_model (published sha256)"));
  const auto records = zoo::read_verified(dir);
  REQUIRE(records.count("unknown_sum") == 1);
  CHECK(records.at("unknown_sum").sha256 == zoo::sha256_bytes(s.unknown_));
  CHECK(records.at("unknown_sum").size == s.unknown_.size());
  CHECK(records.at("unknown_sum").source == "recorded");
  CHECK(records.at("good_model").source == "manifest");

  const Result second = zoo_cmd({"verify", "--dir", dir, "--manifest", s.manifest_});
  CHECK(second.rc == 0);
  CHECK(contains(second.out, "OK        unknown_sum (matches the sha256 recorded"));

  // A changed file no longer matches its record.
  write_all(fs::path(dir) / "aux/unknown.bin", "tampered");
  const Result third = zoo_cmd({"verify", "unknown_sum", "--dir", dir, "--manifest", s.manifest_});
  CHECK(third.rc == 1);
  CHECK(contains(third.out, "MISMATCH  unknown_sum"));

  // A forced re-download is checked against the record, and matches again.
  const Result again = download(dir, {"--models", "unknown_sum", "--force"});
  CHECK(again.rc == 0);
  CHECK(contains(again.out, "sha256 verified"));

  // Naming a missing entry fails with the download command.
  const Result missing = zoo_cmd({"verify", "flaky_expert", "--dir", dir, "--manifest", s.manifest_});
  CHECK(missing.rc == 1);
  CHECK(contains(missing.out, "prismer download --models flaky_expert"));
}

TEST_CASE("the resolver turns zoo:NAME into a path or says how to download it") {
  auto& s = server();
  const std::string dir = s.new_dir("resolve");
  const zoo::Manifest builtin = zoo::load_manifest();
  try {
    zoo::resolve("zoo:caption_prismer_base", dir, builtin);
    FAIL("expected an error");
  } catch (const zoo::ZooError& e) {
    CHECK(contains(e.what(), "prismer download --models caption_prismer_base"));
    CHECK(contains(e.what(), dir));
  }
  const fs::path file = fs::path(dir) / "caption_prismer_base/pytorch_model.bin";
  write_all(file, "weights");
  CHECK(zoo::resolve("zoo:caption_prismer_base", dir) == file.string());
  CHECK_THROWS_WITH_AS(zoo::resolve("zoo:no_such_model", dir), doctest::Contains("caption_prismer_base"),
                       zoo::ZooError);
  // Plain paths pass through, or name themselves when missing.
  CHECK(zoo::resolve(file.string(), "") == file.string());
  const std::string missing = (fs::path(dir) / "nope.bin").string();
  CHECK_THROWS_WITH_AS(zoo::resolve(missing, ""), doctest::Contains(missing.c_str()), zoo::ZooError);
  // With the default folder the hint is exactly the download command.
  CHECK(zoo::download_hint("vqa_prismer_base", zoo::default_dir()) == "prismer download --models vqa_prismer_base");
}

TEST_CASE("plugin file settings: paths and zoo:NAME, errors naming the config key") {
  auto& s = server();
  const std::string dir = s.new_dir("settings");
  const fs::path file = fs::path(dir) / "expert_weights/10_model.pth";
  write_all(file, "weights");
  ::setenv("PRISMER_ZOO_DIR", dir.c_str(), 1);
  const auto cfg = [](const std::string& yaml) { return prismer::Config::parse_string(yaml, "plugin.yaml"); };
  const auto error_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  using prismer::plugins::file_setting;
  using prismer::plugins::optional_file_setting;
  CHECK(file_setting(cfg("weights: " + file.string()), "weights", "a path") == file.string());
  CHECK(file_setting(cfg("weights: zoo:expert_edge"), "weights", "a path") == file.string());
  CHECK(optional_file_setting(cfg("vocab: \"\""), "vocab").empty());
  CHECK(optional_file_setting(cfg("other: 1"), "vocab").empty());

  const std::string empty = error_of([&] { file_setting(cfg("weights: \"\""), "weights", "a path or zoo:expert_edge"); });
  CHECK(contains(empty, "plugin.yaml"));
  CHECK(contains(empty, "weights"));
  CHECK(contains(empty, "must name a file: a path or zoo:expert_edge"));
  const std::string missing = error_of([&] { file_setting(cfg("weights: /no/such/file.pth"), "weights", "a path"); });
  CHECK(contains(missing, "plugin.yaml"));
  CHECK(contains(missing, "/no/such/file.pth"));
  const std::string undownloaded = error_of([&] { file_setting(cfg("weights: zoo:expert_depth"), "weights", "a path"); });
  CHECK(contains(undownloaded, "weights"));
  CHECK(contains(undownloaded, "prismer download --models expert_depth"));
  const std::string unknown = error_of([&] { optional_file_setting(cfg("vocab: zoo:no_such_file"), "vocab"); });
  CHECK(contains(unknown, "vocab"));
  CHECK(contains(unknown, "unknown zoo entry 'no_such_file'"));
  ::unsetenv("PRISMER_ZOO_DIR");
}
