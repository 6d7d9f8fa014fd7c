// Matching parameter names (checkpoint key remapping and freeze rules).
#pragma once

#include <string>

namespace prismer::backbone {

/// Whether the key `s` contains `part` (the reference's `in` tests on parameter names).
inline bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace prismer::backbone
