// JsonList: simdjson's DOM parser, with every entry's element kept for O(1) access and checked field reads.
#include "prismer/datasets/json_list.h"

#include <simdjson.h>

#include <stdexcept>

namespace prismer::datasets {

namespace {

const char* type_name(simdjson::dom::element_type t) {
  switch (t) {
    case simdjson::dom::element_type::ARRAY: return "a list";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: return "an integer";
    case simdjson::dom::element_type::DOUBLE: return "a float";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

}  // namespace

struct JsonList::Impl {
  std::string path;
  simdjson::dom::parser parser;
  std::vector<simdjson::dom::element> entries;

  simdjson::dom::element field(const JsonList& self, std::size_t i, const char* name) const {
    const simdjson::dom::element e = entries.at(i);
    if (!e.is_object()) self.fail(i, std::string("expected an object with '") + name + "', got " + type_name(e.type()));
    simdjson::dom::element v;
    if (e[name].get(v) != simdjson::SUCCESS || v.is_null()) self.fail(i, std::string("field '") + name + "' is missing");
    return v;
  }
};

JsonList::JsonList(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  simdjson::dom::element root;
  const simdjson::error_code err = impl_->parser.load(path).get(root);
  if (err == simdjson::IO_ERROR) throw std::runtime_error(path + ": cannot read the file");
  if (err != simdjson::SUCCESS)
    throw std::runtime_error(path + ": not valid JSON (" + simdjson::error_message(err) +
                             "; a truncated or partly written file reads like this)");
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS)
    throw std::runtime_error(path + ": expected a JSON list at the top level, got " + type_name(root.type()));
  impl_->entries.reserve(array.size());
  for (simdjson::dom::element e : array) impl_->entries.push_back(e);
}

JsonList::~JsonList() = default;

std::size_t JsonList::size() const { return impl_->entries.size(); }
const std::string& JsonList::path() const { return impl_->path; }

void JsonList::fail(std::size_t i, const std::string& what) const {
  throw std::runtime_error(impl_->path + ": entry " + std::to_string(i) + ": " + what);
}

bool JsonList::has(std::size_t i, const char* field) const {
  const simdjson::dom::element e = impl_->entries.at(i);
  simdjson::dom::element v;
  return e.is_object() && e[field].get(v) == simdjson::SUCCESS && !v.is_null();
}

std::string JsonList::string(std::size_t i, const char* field) const {
  const simdjson::dom::element v = impl_->field(*this, i, field);
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS)
    fail(i, std::string("field '") + field + "' must be a string, got " + type_name(v.type()));
  return std::string(s);
}

std::int64_t JsonList::integer(std::size_t i, const char* field) const {
  const simdjson::dom::element v = impl_->field(*this, i, field);
  std::int64_t n = 0;
  if (v.get_int64().get(n) != simdjson::SUCCESS)
    fail(i, std::string("field '") + field + "' must be an integer, got " + type_name(v.type()));
  return n;
}

std::vector<std::string> JsonList::strings(std::size_t i, const char* field) const {
  const simdjson::dom::element v = impl_->field(*this, i, field);
  simdjson::dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS)
    fail(i, std::string("field '") + field + "' must be a list of strings, got " + type_name(v.type()));
  std::vector<std::string> out;
  for (simdjson::dom::element x : a) {
    std::string_view s;
    if (x.get_string().get(s) != simdjson::SUCCESS)
      fail(i, std::string("field '") + field + "' must hold strings, found " + type_name(x.type()));
    out.emplace_back(s);
  }
  return out;
}

std::vector<double> JsonList::numbers(std::size_t i, const char* field) const {
  const simdjson::dom::element v = impl_->field(*this, i, field);
  simdjson::dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS)
    fail(i, std::string("field '") + field + "' must be a list of numbers, got " + type_name(v.type()));
  std::vector<double> out;
  for (simdjson::dom::element x : a) {
    if (!x.is_number()) fail(i, std::string("field '") + field + "' must hold numbers, found " + type_name(x.type()));
    double d = 0;
    if (x.is_int64()) d = static_cast<double>(x.get_int64().value_unsafe());
    else if (x.is_uint64()) d = static_cast<double>(x.get_uint64().value_unsafe());
    else d = x.get_double().value_unsafe();
    out.push_back(d);
  }
  return out;
}

std::string JsonList::string_at(std::size_t i) const {
  std::string_view s;
  const simdjson::dom::element e = impl_->entries.at(i);
  if (e.get_string().get(s) != simdjson::SUCCESS) fail(i, std::string("expected a string, got ") + type_name(e.type()));
  return std::string(s);
}

}  // namespace prismer::datasets
