// Config: a YAML node with its source file and key path, so every error can say where it is.
#include <prismer/config.h>

#include <yaml-cpp/yaml.h>

#include <functional>
#include <sstream>

namespace prismer {

ConfigError::~ConfigError() = default;

struct Config::Impl {
  std::shared_ptr<const std::string> source;  // file name or description
  YAML::Node node;
  std::string path;
  YAML::Mark mark;  // position of this node, or of its parent when the node is absent
};

namespace {

YAML::Mark mark_of(const YAML::Node& node, const YAML::Mark& fallback) {
  if (!node.IsDefined()) return fallback;
  YAML::Mark m = node.Mark();
  return m.is_null() ? fallback : m;
}

std::string join_path(const std::string& base, const std::string& key) { return base.empty() ? key : base + "." + key; }

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "'" + node.Scalar() + "'";
}

bool parses_as_bool(const YAML::Node& n) {
  bool b;
  return n.IsScalar() && YAML::convert<bool>::decode(n, b);
}
bool parses_as_int(const YAML::Node& n) {
  long long v;
  return n.IsScalar() && YAML::convert<long long>::decode(n, v);
}
bool parses_as_float(const YAML::Node& n) {
  double v;
  return n.IsScalar() && YAML::convert<double>::decode(n, v);
}

}  // namespace

Config::Config() : Config(std::make_shared<Impl>(Impl{std::make_shared<std::string>("<empty>"), YAML::Node(YAML::NodeType::Map), "", YAML::Mark::null_mark()})) {}

Config::Config(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Config Config::parse_file(const std::string& path) {
  YAML::Node node;
  try {
    node = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot open the file (does it exist?)");
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
  if (!node.IsDefined() || node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  return Config(std::make_shared<Impl>(Impl{std::make_shared<std::string>(path), node, "", mark_of(node, YAML::Mark::null_mark())}));
}

Config Config::parse_string(const std::string& text, const std::string& source) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
  if (!node.IsDefined() || node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  return Config(std::make_shared<Impl>(Impl{std::make_shared<std::string>(source), node, "", mark_of(node, YAML::Mark::null_mark())}));
}

bool Config::is_null() const { return !impl_->node.IsDefined() || impl_->node.IsNull(); }
bool Config::is_map() const { return impl_->node.IsDefined() && impl_->node.IsMap(); }
bool Config::is_sequence() const { return impl_->node.IsDefined() && impl_->node.IsSequence(); }
bool Config::is_scalar() const { return impl_->node.IsDefined() && impl_->node.IsScalar(); }

bool Config::has(const std::string& key) const {
  if (!is_map()) return false;
  const YAML::Node& n = impl_->node;
  return static_cast<bool>(n[key]);
}

Config Config::operator[](const std::string& key) const {
  // A const lookup of an absent key yields an invalid "zombie" node that yaml-cpp refuses to assign:
  // replace it by a valid undefined node.
  const YAML::Node& n = impl_->node;
  const YAML::Node found = is_map() ? n[key] : YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node child = found.IsDefined() ? found : YAML::Node(YAML::NodeType::Undefined);
  return Config(std::make_shared<Impl>(Impl{impl_->source, child, join_path(impl_->path, key), mark_of(child, impl_->mark)}));
}

Config Config::operator[](std::size_t index) const {
  const YAML::Node& n = impl_->node;
  const YAML::Node child = (is_sequence() && index < n.size()) ? n[index] : YAML::Node(YAML::NodeType::Undefined);
  return Config(std::make_shared<Impl>(Impl{impl_->source, child, impl_->path + "[" + std::to_string(index) + "]",
                                            mark_of(child, impl_->mark)}));
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  if (!is_map()) return out;
  for (const auto& kv : impl_->node) out.push_back(kv.first.as<std::string>());
  return out;
}

std::vector<Config> Config::items() const {
  std::vector<Config> out;
  if (!is_sequence()) return out;
  for (std::size_t i = 0; i < impl_->node.size(); ++i) out.push_back((*this)[i]);
  return out;
}

std::size_t Config::size() const { return impl_->node.IsDefined() ? impl_->node.size() : 0; }

std::string Config::where() const {
  const YAML::Mark& m = impl_->mark;
  if (m.is_null()) return *impl_->source;
  return *impl_->source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string Config::path() const { return impl_->path.empty() ? "(top level)" : impl_->path; }

void Config::fail(const std::string& message) const { throw ConfigError(where() + ": " + path() + ": " + message); }

namespace {

template <typename T>
T convert_scalar(const Config& c, const YAML::Node& n, const char* expected) {
  T value{};
  if (!n.IsDefined() || n.IsNull()) c.fail(std::string("expected ") + expected + ", got nothing");
  if (!n.IsScalar() || !YAML::convert<T>::decode(n, value)) c.fail(std::string("expected ") + expected + ", got " + describe(n));
  return value;
}

template <typename T>
std::vector<T> convert_list(const Config& c, const YAML::Node& n, const char* expected) {
  if (!n.IsDefined() || n.IsNull()) return {};
  if (!n.IsSequence()) c.fail(std::string("expected a list of ") + expected + ", got " + describe(n));
  std::vector<T> out;
  for (const auto& item : c.items()) out.push_back(item.as<T>());
  return out;
}

}  // namespace

template <> std::string Config::as<std::string>() const {
  const YAML::Node& n = impl_->node;
  if (!n.IsDefined() || n.IsNull()) fail("expected a string, got nothing");
  if (!n.IsScalar()) fail("expected a string, got " + describe(n));
  return n.Scalar();
}
template <> bool Config::as<bool>() const { return convert_scalar<bool>(*this, impl_->node, "true or false"); }
template <> int Config::as<int>() const { return convert_scalar<int>(*this, impl_->node, "an integer"); }
template <> std::int64_t Config::as<std::int64_t>() const {
  return static_cast<std::int64_t>(convert_scalar<long long>(*this, impl_->node, "an integer"));
}
template <> double Config::as<double>() const { return convert_scalar<double>(*this, impl_->node, "a number"); }
template <> float Config::as<float>() const { return static_cast<float>(convert_scalar<double>(*this, impl_->node, "a number")); }
template <> std::vector<std::string> Config::as<std::vector<std::string>>() const {
  return convert_list<std::string>(*this, impl_->node, "strings");
}
template <> std::vector<std::int64_t> Config::as<std::vector<std::int64_t>>() const {
  return convert_list<std::int64_t>(*this, impl_->node, "integers");
}
template <> std::vector<double> Config::as<std::vector<double>>() const {
  return convert_list<double>(*this, impl_->node, "numbers");
}

Config Config::with_defaults(const Config& defaults) const {
  YAML::Node root = is_null() ? YAML::Node(YAML::NodeType::Map) : impl_->node;
  const Config root_view(std::make_shared<Impl>(Impl{impl_->source, root, impl_->path, impl_->mark}));
  // Checks `user` against `defaults` and fills in missing keys, in place, so user nodes keep their positions.
  std::function<void(const Config&, YAML::Node, const YAML::Node&)> merge = [&](const Config& view, YAML::Node user,
                                                                                 const YAML::Node& def) {
    if (!def.IsDefined() || def.IsNull()) return;  // any value accepted
    if (def.IsMap()) {
      if (!user.IsMap()) view.fail("expected a map, got " + describe(user));
      if (def.size() == 0) return;  // free-form map
      for (const auto& kv : user) {
        const std::string key = kv.first.as<std::string>();
        if (def[key]) continue;
        std::string known;
        for (const auto& d : def) known += (known.empty() ? "" : ", ") + d.first.as<std::string>();
        const Config key_view(std::make_shared<Impl>(
            Impl{impl_->source, kv.first, join_path(view.impl_->path, key), mark_of(kv.first, view.impl_->mark)}));
        key_view.fail("unknown key '" + key + "' (known keys: " + known + ")");
      }
      for (const auto& d : def) {
        const std::string key = d.first.as<std::string>();
        YAML::Node child = user[key];
        if (!child.IsDefined() || child.IsNull()) user[key] = YAML::Clone(d.second);
        else merge(view[key], child, d.second);
      }
      return;
    }
    if (def.IsSequence()) {
      if (!user.IsSequence()) view.fail("expected a list, got " + describe(user));
      return;
    }
    // A scalar default: the user's value must have the same type (a quoted default is a string).
    if (!user.IsScalar()) view.fail("expected a single value like '" + def.Scalar() + "', got " + describe(user));
    const bool quoted = def.Tag() == "!";
    if (!quoted && parses_as_bool(def) && !parses_as_int(def)) {
      if (!parses_as_bool(user)) view.fail("expected true or false, got " + describe(user));
    } else if (!quoted && parses_as_int(def)) {
      if (!parses_as_int(user)) view.fail("expected an integer, got " + describe(user));
    } else if (!quoted && parses_as_float(def)) {
      if (!parses_as_float(user)) view.fail("expected a number, got " + describe(user));
    }
  };
  merge(root_view, root, defaults.impl_->node);
  return root_view;
}

void Config::set(const std::string& dotted_path, const std::string& yaml_value) {
  YAML::Node value;
  try {
    value = YAML::Load(yaml_value);
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + dotted_path + "=" + yaml_value + ": invalid YAML value: " + e.msg);
  }
  std::vector<std::string> parts;
  std::stringstream ss(dotted_path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) throw ConfigError("--set " + dotted_path + ": empty key in the path");
    parts.push_back(part);
  }
  if (parts.empty()) throw ConfigError("--set needs key.path=value");
  std::vector<YAML::Node> chain{impl_->node};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node cur = chain.back();
    const bool numeric = parts[i].find_first_not_of("0123456789") == std::string::npos;
    if (cur.IsSequence() && numeric) {
      const auto idx = std::stoul(parts[i]);
      if (idx >= cur.size()) throw ConfigError("--set " + dotted_path + ": index " + parts[i] + " is past the end of the list");
      chain.push_back(cur[idx]);
    } else {
      if (!cur.IsMap() && !cur.IsNull()) throw ConfigError("--set " + dotted_path + ": '" + parts[i] + "' is not inside a map");
      if (!cur[parts[i]] || cur[parts[i]].IsNull()) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      chain.push_back(cur[parts[i]]);
    }
  }
  YAML::Node last = chain.back();
  const std::string& key = parts.back();
  if (last.IsSequence() && key.find_first_not_of("0123456789") == std::string::npos) {
    const auto idx = std::stoul(key);
    if (idx >= last.size()) throw ConfigError("--set " + dotted_path + ": index " + key + " is past the end of the list");
    last[idx] = value;
  } else {
    last[key] = value;
  }
}

std::string Config::dump() const {
  YAML::Emitter out;
  out << impl_->node;
  return out.c_str();
}

}  // namespace prismer
