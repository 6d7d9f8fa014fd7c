/// @file
/// `DIR/zoo-verified.json`: sizes and SHA-256 sums computed locally by `prismer zoo verify`, for entries
/// whose checksum the manifest does not know (trust on first use) and as a record of what was checked.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace prismer::zoo {

/// What was computed for one entry.
struct VerifiedRecord {
  std::string file;        ///< relative to the zoo folder
  std::uint64_t size = 0;  ///< bytes
  std::string sha256;      ///< lower-case hex
  std::string source;      ///< "manifest" (matched the published checksum) or "recorded" (first seen here)
  std::string verified;    ///< UTC time, ISO 8601
};

/// Name of the record file inside the zoo folder.
inline constexpr const char* kVerifiedFile = "zoo-verified.json";

/// Reads `dir/zoo-verified.json`; an absent file is an empty map. Throws ZooError when it is malformed.
std::map<std::string, VerifiedRecord> read_verified(const std::string& dir);

/// Writes `dir/zoo-verified.json` (to a temporary name, then renamed).
void write_verified(const std::string& dir, const std::map<std::string, VerifiedRecord>& records);

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
std::string utc_now();

}  // namespace prismer::zoo
