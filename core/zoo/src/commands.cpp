// `prismer download` and `prismer zoo list|verify`.
#include <prismer/zoo/commands.h>
#include <prismer/zoo/download.h>
#include <prismer/zoo/manifest.h>
#include <prismer/zoo/sha256.h>
#include <prismer/zoo/verified.h>
#include <prismer/zoo/zoo.h>

#include <cxxopts.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

namespace prismer::zoo {

namespace fs = std::filesystem;

namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;

std::uint64_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto s = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::uint64_t>(s);
}

std::vector<std::string> split_names(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const auto& r : raw) {
    std::stringstream ss(r);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) out.push_back(item);
  }
  return out;
}

const char* kDownloadHelp = R"(
Selects entries of the zoo manifest (configs/zoo.yaml, or --manifest FILE / $PRISMER_ZOO_MANIFEST) and
downloads them into the zoo folder (--dir, default $PRISMER_ZOO_DIR or models/): sizes first, then each file
into <file>.part (resumed when it exists), checked for size and SHA-256, renamed to its final name.
Files already present are skipped unless --force. --mirror URL fetches every file from URL/<path>.
The Prismer checkpoints are CC-BY-NC-SA-4.0 (non-commercial): they are never bundled, only downloaded.
)";

}  // namespace

int run_download_command(int argc, char** argv) {
  cxxopts::Options o("prismer download", "Download Prismer checkpoints, expert weights and auxiliary files");
  o.custom_help("[--models NAME...|--all-models] [--experts] [--aux] [--dir DIR] [--mirror URL] [--force]");
  o.positional_help("");
  o.add_options()
    ("models", "zoo entries by name (repeat or comma-separate; any entry, see 'prismer zoo list')",
     cxxopts::value<std::vector<std::string>>())
    ("all-models", "all 12 Prismer checkpoints")
    ("experts", "the 7 expert weight files")
    ("aux", "auxiliary files: RoBERTa tokenizers and weights, CLIP, label features, OCR lexicon")
    ("dir", "zoo folder", cxxopts::value<std::string>()->default_value(default_dir()))
    ("mirror", "base URL replacing every source URL (offline mirrors)", cxxopts::value<std::string>())
    ("force", "download again even when present, dropping partial files")
    ("manifest", "manifest file instead of the built-in configs/zoo.yaml", cxxopts::value<std::string>())
    ("retries", "further attempts after a network failure", cxxopts::value<int>()->default_value("5"))
    ("retry-delay", "first back-off in seconds (doubles each retry)", cxxopts::value<double>()->default_value("1"))
    ("stall-timeout", "seconds without data before a retry", cxxopts::value<long>()->default_value("60"))
    ("no-progress", "no progress bars")
    ("h,help", "this text")
    ("names", "", cxxopts::value<std::vector<std::string>>());
  o.parse_positional({"names"});
  cxxopts::ParseResult args;
  try {
    args = o.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "error: " << e.what() << " (see 'prismer download --help')\n";
    return kUsage;
  }
  if (args.count("help")) {
    std::cout << o.help() << kDownloadHelp;
    return kOk;
  }
  Manifest manifest;
  try {
    manifest = load_manifest(args.count("manifest") ? args["manifest"].as<std::string>() : "");
  } catch (const ZooError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kUsage;
  }

  // Selection, in manifest order, without duplicates.
  std::set<std::string> wanted;
  std::vector<std::string> named;
  if (args.count("models")) named = split_names(args["models"].as<std::vector<std::string>>());
  if (args.count("names")) {
    const auto extra = split_names(args["names"].as<std::vector<std::string>>());
    named.insert(named.end(), extra.begin(), extra.end());
  }
  for (const auto& n : named) {
    if (manifest.find(n) == nullptr) {
      std::cerr << "error: unknown zoo entry '" << n << "' (known: " << manifest.names() << ")\n";
      return kUsage;
    }
    wanted.insert(n);
  }
  for (const auto& e : manifest.entries) {
    if ((e.kind == Kind::model && args.count("all-models")) || (e.kind == Kind::expert && args.count("experts")) ||
        (e.kind == Kind::aux && args.count("aux")))
      wanted.insert(e.name);
  }
  if (wanted.empty()) {
    std::cerr << "error: nothing selected: use --models NAME, --all-models, --experts or --aux "
                 "(see 'prismer zoo list')\n";
    return kUsage;
  }

  DownloadOptions opt;
  opt.mirror = args.count("mirror") ? args["mirror"].as<std::string>() : "";
  opt.force = args.count("force") > 0;
  opt.retries = std::max(0, args["retries"].as<int>());
  opt.retry_delay_s = std::max(0.0, args["retry-delay"].as<double>());
  opt.stall_timeout_s = std::max(1L, args["stall-timeout"].as<long>());
  opt.progress = args.count("no-progress") == 0 && isatty(STDOUT_FILENO) != 0;
  const std::string dir = args["dir"].as<std::string>();

  std::map<std::string, VerifiedRecord> records;
  try {
    records = read_verified(dir);
  } catch (const ZooError& e) {
    std::cerr << "warning: " << e.what() << "\n";
  }

  std::vector<const Entry*> todo;
  int present = 0;
  for (const auto& e : manifest.entries) {
    if (!wanted.count(e.name)) continue;
    const fs::path dest = fs::path(dir) / e.file;
    if (fs::exists(dest) && !opt.force) {
      std::cout << "present: " << e.name << " (" << dest.string() << ")\n";
      ++present;
      continue;
    }
    todo.push_back(&e);
  }
  if (todo.empty()) {
    std::cout << "Nothing to download: every selected file is in " << dir << " (--force downloads again).\n";
    return kOk;
  }

  // Sizes first.
  std::cout << "Checking the size of " << todo.size() << " file" << (todo.size() == 1 ? "" : "s") << " at "
            << (opt.mirror.empty() ? "the sources" : opt.mirror) << " ...\n";
  std::cout.flush();
  int failed = 0;
  std::uint64_t total = 0, resumable = 0;
  int unknown = 0;
  std::map<std::string, std::optional<std::uint64_t>> remote_size;
  std::vector<const Entry*> fetch;
  for (const Entry* e : todo) {
    const std::string url = manifest.url(*e, opt.mirror);
    try {
      const RemoteInfo info = head(url, opt);
      if (e->size && info.size && *info.size != *e->size) {
        throw ZooError("the server's file is " + std::to_string(*info.size) + " bytes but the manifest says " +
                       std::to_string(*e->size) + " (" + url + ")");
      }
      const auto size = e->size ? e->size : info.size;
      remote_size[e->name] = size;
      if (size) total += *size;
      else ++unknown;
      if (!opt.force) resumable += size_or_zero(fs::path(dir) / (e->file + ".part"));
      fetch.push_back(e);
    } catch (const ZooError& err) {
      std::cerr << "error: " << e->name << ": " << err.what() << "\n";
      ++failed;
    }
  }
  if (fetch.empty()) {
    std::cout << "Done: 0 downloaded, " << present << " already present, " << failed << " failed\n";
    return kFailure;
  }
  std::cout << "Total download size: " << human_size(total);
  if (unknown > 0) std::cout << " + " << unknown << " file" << (unknown == 1 ? "" : "s") << " of unknown size";
  if (resumable > 0) std::cout << " (" << human_size(resumable) << " already in partial downloads)";
  std::cout << "\n";
  bool nc_noted = false;
  for (const Entry* e : fetch)
    if (e->licence == "CC-BY-NC-SA-4.0" && !nc_noted) {
      std::cout << "note: the Prismer checkpoints are licensed CC-BY-NC-SA-4.0 (non-commercial, share-alike)\n";
      nc_noted = true;
    }

  int done = 0;
  std::size_t index = 0;
  for (const Entry* e : fetch) {
    ++index;
    const fs::path dest = fs::path(dir) / e->file;
    std::cout << "[" << index << "/" << fetch.size() << "] " << e->name << " -> " << dest.string() << "\n";
    std::cout.flush();
    std::optional<std::string> sha = e->sha256;
    if (!sha) {
      const auto it = records.find(e->name);
      if (it != records.end() && it->second.file == e->file) sha = it->second.sha256;
    }
    try {
      download_file(manifest.url(*e, opt.mirror), dest.string(), remote_size[e->name], sha, opt, std::cout, e->name);
      ++done;
    } catch (const ZooError& err) {
      std::cerr << "error: " << err.what() << "\n";
      ++failed;
    } catch (const fs::filesystem_error& err) {
      std::cerr << "error: " << e->name << ": " << err.what() << "\n";
      ++failed;
    }
  }
  std::cout << "Done: " << done << " downloaded, " << present << " already present, " << failed << " failed\n";
  return failed > 0 ? kFailure : kOk;
}

namespace {

struct Row {
  const Entry* entry;
  std::string state;
  std::string checksum;
  std::uint64_t on_disk = 0;
};

int zoo_list(const Manifest& manifest, const std::string& dir, const std::string& kind, bool json) {
  std::map<std::string, VerifiedRecord> records;
  try {
    records = read_verified(dir);
  } catch (const ZooError& e) {
    std::cerr << "warning: " << e.what() << "\n";
  }
  std::vector<Row> rows;
  int present = 0;
  std::uint64_t disk = 0;
  for (const auto& e : manifest.entries) {
    if (!kind.empty() && kind != kind_name(e.kind)) continue;
    Row r{&e, "missing", e.sha256 ? "published" : "unknown", 0};
    const fs::path path = fs::path(dir) / e.file;
    const auto rec = records.find(e.name);
    if (!e.sha256 && rec != records.end()) r.checksum = "recorded";
    if (fs::exists(path)) {
      r.on_disk = size_or_zero(path);
      r.state = (e.size && *e.size != r.on_disk) ? "wrong size" : "present";
      ++present;
      disk += r.on_disk;
    } else if (fs::exists(path.string() + ".part")) {
      const auto part = size_or_zero(path.string() + ".part");
      r.state = e.size && *e.size > 0 ? "partial " + std::to_string(part * 100 / *e.size) + "%"
                                      : "partial " + human_size(part);
    }
    rows.push_back(r);
  }
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      const Entry& e = *r.entry;
      nlohmann::json j = {{"name", e.name}, {"kind", kind_name(e.kind)}, {"file", (fs::path(dir) / e.file).string()},
                          {"state", r.state}, {"checksum", r.checksum}, {"licence", e.licence},
                          {"upstream", e.upstream}, {"summary", e.summary}, {"url", manifest.url(e)}};
      j["size"] = e.size ? nlohmann::json(*e.size) : nlohmann::json(nullptr);
      j["sha256"] = e.sha256 ? nlohmann::json(*e.sha256) : nlohmann::json(nullptr);
      if (r.state != "missing") j["bytes_on_disk"] = r.on_disk;
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return kOk;
  }
  std::size_t wname = 4, wlic = 7;
  for (const auto& r : rows) {
    wname = std::max(wname, r.entry->name.size());
    wlic = std::max(wlic, r.entry->licence.size());
  }
  std::cout << std::left << std::setw(static_cast<int>(wname) + 2) << "NAME" << std::setw(8) << "KIND" << std::setw(11)
            << "SIZE" << std::setw(13) << "STATE" << std::setw(11) << "CHECKSUM" << "LICENCE\n";
  for (const auto& r : rows) {
    const Entry& e = *r.entry;
    const std::string size = e.size ? human_size(*e.size) : (r.on_disk > 0 ? human_size(r.on_disk) + "*" : "?");
    std::cout << std::left << std::setw(static_cast<int>(wname) + 2) << e.name << std::setw(8) << kind_name(e.kind)
              << std::setw(11) << size << std::setw(13) << r.state << std::setw(11) << r.checksum << e.licence << "\n";
  }
  std::cout << "\nzoo folder: " << dir << " (" << present << " of " << rows.size() << " present, " << human_size(disk)
            << " on disk)\nmanifest: " << manifest.source << "\n"
            << "SIZE ?: not published (* = size of the local copy); CHECKSUM unknown: checked by 'prismer zoo verify' "
               "after the first download.\n"
            << "The Prismer checkpoints are CC-BY-NC-SA-4.0 (non-commercial, share-alike) and are never bundled; "
               "fetch them with 'prismer download --models NAME'.\n";
  return kOk;
}

int zoo_verify(const Manifest& manifest, const std::string& dir, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (manifest.find(n) == nullptr) {
      std::cerr << "error: unknown zoo entry '" << n << "' (known: " << manifest.names() << ")\n";
      return kUsage;
    }
  std::map<std::string, VerifiedRecord> records;
  try {
    records = read_verified(dir);
  } catch (const ZooError& e) {
    std::cerr << "warning: " << e.what() << " (starting a new record)\n";
  }
  const std::set<std::string> only(names.begin(), names.end());
  int ok = 0, recorded = 0, bad = 0, missing = 0;
  for (const auto& e : manifest.entries) {
    if (!only.empty() && !only.count(e.name)) continue;
    const fs::path path = fs::path(dir) / e.file;
    if (!fs::exists(path)) {
      if (!only.empty()) {
        std::cout << "MISSING   " << e.name << " (" << path.string() << "); fetch it with: "
                  << download_hint(e.name, dir) << "\n";
        ++missing;
      }
      continue;
    }
    const bool tty = isatty(STDOUT_FILENO) != 0;
    if (tty) std::cout << "checking  " << e.name << " ..." << std::flush;
    const std::uint64_t size = size_or_zero(path);
    std::string sum;
    try {
      sum = sha256_file(path.string());
    } catch (const ZooError& err) {
      std::cout << (tty ? "\r" : "") << "FAILED    " << e.name << ": " << err.what() << "\n";
      ++bad;
      continue;
    }
    if (tty) std::cout << "\r\033[K";
    VerifiedRecord rec{e.file, size, sum, "", utc_now()};
    if (e.size && *e.size != size) {
      std::cout << "MISMATCH  " << e.name << ": " << size << " bytes, the manifest says " << *e.size
                << " (re-download with: " << download_hint(e.name, dir) << " --force)\n";
      ++bad;
    } else if (e.sha256) {
      if (*e.sha256 == sum) {
        std::cout << "OK        " << e.name << " (published sha256)\n";
        rec.source = "manifest";
        records[e.name] = rec;
        ++ok;
      } else {
        std::cout << "MISMATCH  " << e.name << ": sha256 " << sum << ", published " << *e.sha256
                  << " (re-download with: " << download_hint(e.name, dir) << " --force)\n";
        ++bad;
      }
    } else {
      const auto it = records.find(e.name);
      if (it != records.end() && it->second.file == e.file && it->second.source == "recorded") {
        if (it->second.sha256 == sum && it->second.size == size) {
          std::cout << "OK        " << e.name << " (matches the sha256 recorded " << it->second.verified << ")\n";
          ++ok;
        } else {
          std::cout << "MISMATCH  " << e.name << ": sha256 " << sum << " differs from the one recorded "
                    << it->second.verified << " (" << it->second.sha256 << "); the file changed or is corrupt: "
                    << "re-download with --force, or delete its record in " << kVerifiedFile << "\n";
          ++bad;
        }
      } else {
        std::cout << "RECORDED  " << e.name << ": " << size << " bytes, sha256 " << sum
                  << " (no published checksum; later checks compare with this)\n";
        rec.source = "recorded";
        records[e.name] = rec;
        ++recorded;
      }
    }
  }
  if (ok + recorded + bad + missing == 0) {
    std::cout << "Nothing to verify in " << dir << " (no zoo files present; see 'prismer zoo list').\n";
    return kOk;
  }
  write_verified(dir, records);
  std::cout << "Verified " << ok << ", recorded " << recorded << ", mismatched " << bad << ", missing " << missing
            << "; record: " << (fs::path(dir) / kVerifiedFile).string() << "\n";
  return (bad > 0 || missing > 0) ? kFailure : kOk;
}

}  // namespace

int run_zoo_command(int argc, char** argv) {
  const char* usage =
      "usage: prismer zoo list [--dir DIR] [--kind model|expert|aux] [--json] [--manifest FILE]\n"
      "       prismer zoo verify [NAME...] [--dir DIR] [--manifest FILE]\n";
  if (argc < 2) {
    std::cerr << usage;
    return kUsage;
  }
  const std::string sub = argv[1];
  if (sub == "-h" || sub == "--help" || sub == "help") {
    std::cout << usage;
    return kOk;
  }
  if (sub != "list" && sub != "verify") {
    std::cerr << "error: unknown zoo command '" << sub << "'\n" << usage;
    return kUsage;
  }
  cxxopts::Options o("prismer zoo " + sub, sub == "list" ? "What the zoo knows and what is present"
                                                         : "Check present zoo files (size, SHA-256) and record them");
  o.add_options()
    ("dir", "zoo folder", cxxopts::value<std::string>()->default_value(default_dir()))
    ("manifest", "manifest file instead of the built-in configs/zoo.yaml", cxxopts::value<std::string>())
    ("h,help", "this text");
  if (sub == "list") {
    o.add_options()
      ("kind", "only this kind: model, expert or aux", cxxopts::value<std::string>()->default_value(""))
      ("json", "machine-readable output");
  } else {
    o.add_options()("names", "", cxxopts::value<std::vector<std::string>>());
    o.parse_positional({"names"});
  }
  cxxopts::ParseResult args;
  try {
    args = o.parse(argc - 1, argv + 1);
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "error: " << e.what() << "\n" << usage;
    return kUsage;
  }
  if (args.count("help")) {
    std::cout << o.help();
    return kOk;
  }
  Manifest manifest;
  try {
    manifest = load_manifest(args.count("manifest") ? args["manifest"].as<std::string>() : "");
  } catch (const ZooError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kUsage;
  }
  const std::string dir = args["dir"].as<std::string>();
  try {
    if (sub == "list") {
      const std::string kind = args["kind"].as<std::string>();
      if (!kind.empty() && kind != "model" && kind != "expert" && kind != "aux") {
        std::cerr << "error: --kind must be model, expert or aux\n";
        return kUsage;
      }
      return zoo_list(manifest, dir, kind, args.count("json") > 0);
    }
    std::vector<std::string> names;
    if (args.count("names")) names = split_names(args["names"].as<std::vector<std::string>>());
    return zoo_verify(manifest, dir, names);
  } catch (const ZooError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kFailure;
  } catch (const fs::filesystem_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kFailure;
  }
}

}  // namespace prismer::zoo
