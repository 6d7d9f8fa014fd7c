// SHA-256 through OpenSSL's EVP digest interface.
#include <prismer/zoo/manifest.h>
#include <prismer/zoo/sha256.h>

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace prismer::zoo {

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MdCtx new_sha256() {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw ZooError("OpenSSL: cannot start SHA-256");
  return ctx;
}

std::string finish(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &len) != 1) throw ZooError("OpenSSL: SHA-256 failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace

std::string sha256_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw ZooError("cannot read " + path);
  MdCtx ctx = new_sha256();
  std::vector<unsigned char> buf(1 << 20);
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0)
    if (EVP_DigestUpdate(ctx.get(), buf.data(), n) != 1) throw ZooError("OpenSSL: SHA-256 failed");
  if (std::ferror(f.get())) throw ZooError("read error in " + path);
  return finish(ctx.get());
}

std::string sha256_bytes(const std::string& bytes) {
  MdCtx ctx = new_sha256();
  if (EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1) throw ZooError("OpenSSL: SHA-256 failed");
  return finish(ctx.get());
}

}  // namespace prismer::zoo
