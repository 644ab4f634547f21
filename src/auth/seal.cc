#include "auth/seal.h"

#include <openssl/evp.h>

#include <climits>
#include <memory>

namespace cpa::auth {
namespace {

constexpr unsigned char kVersion = 1;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kOverhead = 1 + kNonceBytes + kTagBytes;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<std::string> seal(std::string_view key, std::string_view plaintext, std::string_view aad,
                         Rng& rng) {
  if (key.size() != kSealKeyBytes) return Status::Internal("seal: the key must be 32 bytes");
  if (plaintext.size() > INT_MAX - kOverhead || aad.size() > INT_MAX)
    return Status::Internal("seal: value too large");
  std::string out(kOverhead + plaintext.size(), '\0');
  auto* base = reinterpret_cast<unsigned char*>(out.data());
  unsigned char* nonce = base + 1;
  unsigned char* ciphertext = nonce + kNonceBytes;
  unsigned char* tag = ciphertext + plaintext.size();
  base[0] = kVersion;
  rng.fill(nonce, kNonceBytes);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  bool ok = ctx != nullptr &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), nonce) == 1 &&
            (aad.empty() ||
             EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) ==
                 1) &&
            (plaintext.empty() ||
             EVP_EncryptUpdate(ctx.get(), ciphertext, &n, bytes(plaintext),
                               static_cast<int>(plaintext.size())) == 1) &&
            EVP_EncryptFinal_ex(ctx.get(), ciphertext + plaintext.size(), &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                                tag) == 1;
  if (!ok) return Status::Internal("seal: AES-256-GCM failed");
  return out;
}

std::optional<std::string> open_sealed(std::string_view key, std::string_view sealed,
                                       std::string_view aad) {
  if (key.size() != kSealKeyBytes || sealed.size() < kOverhead ||
      sealed.size() > static_cast<size_t>(INT_MAX) || aad.size() > INT_MAX ||
      static_cast<unsigned char>(sealed[0]) != kVersion)
    return std::nullopt;
  const unsigned char* nonce = bytes(sealed) + 1;
  const unsigned char* ciphertext = nonce + kNonceBytes;
  const size_t length = sealed.size() - kOverhead;
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; it only reads.
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string out(length, '\0');
  auto* plaintext = reinterpret_cast<unsigned char*>(out.data());

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), nonce) == 1 &&
            (aad.empty() ||
             EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) ==
                 1) &&
            (length == 0 || EVP_DecryptUpdate(ctx.get(), plaintext, &n, ciphertext,
                                              static_cast<int>(length)) == 1) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                                tag.data()) == 1 &&
            // The tag is checked here: nothing decrypted is returned without it.
            EVP_DecryptFinal_ex(ctx.get(), plaintext + length, &n) == 1;
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace cpa::auth
