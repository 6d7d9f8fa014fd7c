// What the annotation and result parsers share: the error they throw (naming the file) and how a bad value is quoted.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace prismer::metrics::detail {

[[noreturn]] inline void fail(const std::string& source, const std::string& problem) {
  throw std::runtime_error(source + ": " + problem);
}

/// COCO and VQA ids are integers or strings.
inline bool valid_id(const nlohmann::json& id) { return id.is_number_integer() || id.is_string(); }

/// A value for an error message, cut to 60 characters.
inline std::string show(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace prismer::metrics::detail
