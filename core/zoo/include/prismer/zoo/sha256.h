/// @file
/// SHA-256 of files, through OpenSSL's EVP interface (libssl-dev).
#pragma once

#include <string>

namespace prismer::zoo {

/// Lower-case hex SHA-256 of the file at `path`. Throws ZooError when it cannot be read.
std::string sha256_file(const std::string& path);

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_bytes(const std::string& bytes);

}  // namespace prismer::zoo
