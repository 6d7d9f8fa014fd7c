// DIR/zoo-verified.json: what `prismer zoo verify` computed.
#include <prismer/zoo/manifest.h>
#include <prismer/zoo/verified.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace prismer::zoo {

namespace fs = std::filesystem;

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::map<std::string, VerifiedRecord> read_verified(const std::string& dir) {
  std::map<std::string, VerifiedRecord> out;
  const fs::path path = fs::path(dir) / kVerifiedFile;
  if (!fs::exists(path)) return out;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    const auto j = nlohmann::json::parse(ss.str());
    for (const auto& [name, r] : j.at("entries").items()) {
      VerifiedRecord rec;
      rec.file = r.at("file").get<std::string>();
      rec.size = r.at("size").get<std::uint64_t>();
      rec.sha256 = r.at("sha256").get<std::string>();
      rec.source = r.value("source", "recorded");
      rec.verified = r.value("verified", "");
      out[name] = rec;
    }
  } catch (const nlohmann::json::exception& e) {
    throw ZooError(path.string() + ": not a zoo verification record (" + e.what() + "); remove it and run 'prismer zoo verify'");
  }
  return out;
}

void write_verified(const std::string& dir, const std::map<std::string, VerifiedRecord>& records) {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [name, r] : records)
    entries[name] = {{"file", r.file}, {"size", r.size}, {"sha256", r.sha256}, {"source", r.source},
                     {"verified", r.verified}};
  const nlohmann::json j = {{"version", 1},
                            {"note", "sizes and SHA-256 computed by 'prismer zoo verify'"},
                            {"entries", entries}};
  fs::create_directories(dir);
  const fs::path path = fs::path(dir) / kVerifiedFile;
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) throw ZooError("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

}  // namespace prismer::zoo
