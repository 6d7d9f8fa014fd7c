// The zoo manifest: parsing configs/zoo.yaml (or the copy compiled in) and building URLs.
#include <prismer/zoo/manifest.h>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace prismer::zoo {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::model: return "model";
    case Kind::expert: return "expert";
    case Kind::aux: return "aux";
  }
  return "?";
}

const Entry* Manifest::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

std::string Manifest::names() const {
  std::string out;
  for (const auto& e : entries) out += (out.empty() ? "" : ", ") + e.name;
  return out;
}

std::string encode_url_path(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Manifest::url(const Entry& entry, const std::string& mirror) const {
  std::string base = mirror;
  if (base.empty()) {
    if (entry.base.empty()) {
      base = base_url;
    } else {
      const auto it = bases.find(entry.base);
      if (it == bases.end()) throw ZooError(source + ": entry '" + entry.name + "' names unknown base '" + entry.base + "'");
      base = it->second;
    }
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + encode_url_path(entry.path);
}

namespace {

std::string where(const std::string& source, const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.line < 0) return source;
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

std::string scalar(const YAML::Node& map, const char* key, const std::string& source, const std::string& what,
                   bool required) {
  const YAML::Node v = map[key];
  if (!v || v.IsNull()) {
    if (required) throw ZooError(where(source, map) + ": " + what + ": missing '" + key + "'");
    return "";
  }
  if (!v.IsScalar()) throw ZooError(where(source, v) + ": " + what + "." + key + ": expected a string");
  return v.as<std::string>();
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Manifest parse_manifest(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ZooError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " +
                   e.msg);
  }
  if (!root.IsMap()) throw ZooError(source + ": a zoo manifest is a mapping with base_url and entries");
  Manifest m;
  m.source = source;
  m.base_url = scalar(root, "base_url", source, "manifest", true);
  if (const YAML::Node bases = root["bases"]; bases && !bases.IsNull()) {
    if (!bases.IsMap()) throw ZooError(where(source, bases) + ": bases: expected a mapping of name: URL");
    for (const auto& kv : bases) m.bases[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  const YAML::Node entries = root["entries"];
  if (!entries || !entries.IsSequence()) throw ZooError(source + ": entries: expected a list");
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& node : entries) {
    const std::string what = "entries[" + std::to_string(index++) + "]";
    if (!node.IsMap()) throw ZooError(where(source, node) + ": " + what + ": expected a mapping");
    static const std::set<std::string> known = {"name", "kind", "base", "path", "file", "size",
                                                "sha256", "licence", "upstream", "summary"};
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      if (!known.count(key)) throw ZooError(where(source, kv.first) + ": " + what + ": unknown key '" + key + "'");
    }
    Entry e;
    e.name = scalar(node, "name", source, what, true);
    const std::string ewhat = what + " (" + e.name + ")";
    if (!seen.insert(e.name).second) throw ZooError(where(source, node) + ": " + ewhat + ": duplicate name");
    const std::string kind = scalar(node, "kind", source, ewhat, true);
    if (kind == "model") e.kind = Kind::model;
    else if (kind == "expert") e.kind = Kind::expert;
    else if (kind == "aux") e.kind = Kind::aux;
    else throw ZooError(where(source, node["kind"]) + ": " + ewhat + ".kind: '" + kind + "' is not model, expert or aux");
    e.base = scalar(node, "base", source, ewhat, false);
    if (!e.base.empty() && !m.bases.count(e.base))
      throw ZooError(where(source, node["base"]) + ": " + ewhat + ".base: unknown base '" + e.base + "'");
    e.path = scalar(node, "path", source, ewhat, true);
    e.file = scalar(node, "file", source, ewhat, false);
    if (e.file.empty()) e.file = e.path;
    if (e.file.front() == '/' || e.file.find("..") != std::string::npos)
      throw ZooError(where(source, node) + ": " + ewhat + ".file: must be a relative path inside the zoo folder");
    if (const YAML::Node s = node["size"]; s && !s.IsNull()) {
      try {
        e.size = s.as<std::uint64_t>();
      } catch (const YAML::Exception&) {
        throw ZooError(where(source, s) + ": " + ewhat + ".size: expected a byte count or null");
      }
    }
    const std::string sha = scalar(node, "sha256", source, ewhat, false);
    if (!sha.empty()) {
      if (!is_hex64(sha))
        throw ZooError(where(source, node["sha256"]) + ": " + ewhat + ".sha256: expected 64 lower-case hex digits or null");
      e.sha256 = sha;
    }
    e.licence = scalar(node, "licence", source, ewhat, false);
    e.upstream = scalar(node, "upstream", source, ewhat, false);
    e.summary = scalar(node, "summary", source, ewhat, false);
    m.entries.push_back(std::move(e));
  }
  return m;
}

Manifest load_manifest_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ZooError("cannot read zoo manifest " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_manifest(ss.str(), path);
}

Manifest load_manifest(const std::string& path) {
  if (!path.empty()) return load_manifest_file(path);
  if (const char* env = std::getenv("PRISMER_ZOO_MANIFEST"); env != nullptr && *env != '\0')
    return load_manifest_file(env);
  return parse_manifest(builtin_manifest_text(), "<built-in configs/zoo.yaml>");
}

}  // namespace prismer::zoo
