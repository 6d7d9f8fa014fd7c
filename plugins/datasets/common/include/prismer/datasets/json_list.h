// A JSON data list (an array of objects, the original's `json.load(open(...))`), parsed once with simdjson.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prismer::datasets {

/// A JSON file whose top level is an array. Parsing is simdjson's (a 500 MB list loads in about a second);
/// accessors check each entry's field and throw std::runtime_error "FILE: entry N: ..." for a missing field or
/// a wrong type, so a malformed entry is reported with the file and its index.
///
/// Example:
/// \code
///   prismer::datasets::JsonList list(root + "/coco_karpathy_test.json");
///   for (std::size_t i = 0; i < list.size(); ++i) images.push_back(list.string(i, "image"));
/// \endcode
class JsonList {
 public:
  /// Reads and parses `path`; throws std::runtime_error naming the file when it is missing, not valid JSON
  /// (e.g. truncated) or not an array.
  explicit JsonList(const std::string& path);
  ~JsonList();
  JsonList(const JsonList&) = delete;
  JsonList& operator=(const JsonList&) = delete;

  std::size_t size() const;
  const std::string& path() const;

  /// Whether entry `i` is an object with `field` (and it is not null).
  bool has(std::size_t i, const char* field) const;
  /// String field `field` of entry `i`.
  std::string string(std::size_t i, const char* field) const;
  /// Integer field (an integral JSON number).
  std::int64_t integer(std::size_t i, const char* field) const;
  /// A list of strings.
  std::vector<std::string> strings(std::size_t i, const char* field) const;
  /// A list of numbers (integers or floats).
  std::vector<double> numbers(std::size_t i, const char* field) const;
  /// Entry `i` itself as a string (lists of strings such as answer_list.json).
  std::string string_at(std::size_t i) const;

  /// Throws std::runtime_error "FILE: entry I: what".
  [[noreturn]] void fail(std::size_t i, const std::string& what) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prismer::datasets
