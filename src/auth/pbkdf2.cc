// OpenSSL 3 deprecates the low-level SHA256_* calls, but EVP cannot resume a
// digest from a saved state with one block call, which is the whole saving
// here. This file alone uses them; the macro drops their deprecation marks.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "auth/pbkdf2.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace cpa::auth {
namespace {

constexpr size_t kBlockSize = SHA256_CBLOCK;           // 64
constexpr size_t kDigestSize = SHA256_DIGEST_LENGTH;   // 32
constexpr size_t kWords = kDigestSize / 4;             // 8 state words
constexpr uint64_t kMaxBlocks = 0xffffffffu;           // RFC 8018: dkLen <= (2^32 - 1) * hLen

// HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)): both prefixes are one
// block, so the hash states after them are all HMAC needs of the key.
struct HmacStates {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

void init_states(std::string_view password, HmacStates* states) {
  uint8_t key[kBlockSize] = {};
  if (password.size() > kBlockSize) {
    // RFC 2104: a key longer than a block is replaced by its hash.
    SHA256(reinterpret_cast<const uint8_t*>(password.data()), password.size(), key);
  } else if (!password.empty()) {
    std::memcpy(key, password.data(), password.size());
  }
  for (uint8_t& b : key) b ^= 0x36;
  SHA256_Init(&states->inner);
  SHA256_Update(&states->inner, key, kBlockSize);  // a whole block: processed now, none buffered
  for (uint8_t& b : key) b ^= 0x36 ^ 0x5c;
  SHA256_Init(&states->outer);
  SHA256_Update(&states->outer, key, kBlockSize);
  OPENSSL_cleanse(key, sizeof key);
}

void store_be(const SHA_LONG* words, uint8_t* out) {
  for (size_t i = 0; i < kWords; ++i) {
    out[4 * i] = static_cast<uint8_t>(words[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(words[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(words[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(words[i]);
  }
}

void load_be(const uint8_t* in, SHA_LONG* words) {
  for (size_t i = 0; i < kWords; ++i) {
    words[i] = static_cast<SHA_LONG>(in[4 * i]) << 24 | static_cast<SHA_LONG>(in[4 * i + 1]) << 16 |
               static_cast<SHA_LONG>(in[4 * i + 2]) << 8 | static_cast<SHA_LONG>(in[4 * i + 3]);
  }
}

// T_index = U_1 ^ U_2 ^ ... ^ U_iterations, as 8 big-endian words.
void derive_block(const HmacStates& states, std::string_view salt, uint32_t index, int iterations,
                  SHA_LONG* t) {
  // U_1 = HMAC(P, S || INT(index)): the salt has any length, so the general
  // update-and-final path, once.
  uint8_t block[kBlockSize];
  const uint8_t index_be[4] = {static_cast<uint8_t>(index >> 24), static_cast<uint8_t>(index >> 16),
                               static_cast<uint8_t>(index >> 8), static_cast<uint8_t>(index)};
  SHA256_CTX ctx = states.inner;
  SHA256_Update(&ctx, salt.data(), salt.size());
  SHA256_Update(&ctx, index_be, sizeof index_be);
  SHA256_Final(block, &ctx);
  ctx = states.outer;
  SHA256_Update(&ctx, block, kDigestSize);
  SHA256_Final(block, &ctx);
  load_be(block, t);

  // U_j = HMAC(P, U_{j-1}): a 32-byte message after the one-block key prefix,
  // so each hash is one final block with fixed padding: 0x80, zeros, and the
  // length (64 + 32 bytes = 768 bits) big-endian in the last 8 bytes.
  std::memset(block + kDigestSize, 0, kBlockSize - kDigestSize);
  block[kDigestSize] = 0x80;
  block[kBlockSize - 2] = 0x03;  // 768 = 0x0300
  for (int j = 2; j <= iterations; ++j) {
    // SHA256_Transform reads and writes only the state words h.
    std::memcpy(ctx.h, states.inner.h, sizeof ctx.h);
    SHA256_Transform(&ctx, block);
    store_be(ctx.h, block);
    std::memcpy(ctx.h, states.outer.h, sizeof ctx.h);
    SHA256_Transform(&ctx, block);
    store_be(ctx.h, block);
    for (size_t k = 0; k < kWords; ++k) t[k] ^= ctx.h[k];
  }
  OPENSSL_cleanse(&ctx, sizeof ctx);
  OPENSSL_cleanse(block, sizeof block);
}

}  // namespace

bool pbkdf2_hmac_sha256(std::string_view password, std::string_view salt, int iterations,
                        std::span<uint8_t> out) {
  const uint64_t blocks = out.size() / kDigestSize + (out.size() % kDigestSize != 0 ? 1 : 0);
  if (iterations < 1 || blocks == 0 || blocks > kMaxBlocks) return false;

  HmacStates states;
  init_states(password, &states);
  SHA_LONG t[kWords];
  uint8_t t_bytes[kDigestSize];
  for (uint64_t i = 1; i <= blocks; ++i) {
    derive_block(states, salt, static_cast<uint32_t>(i), iterations, t);
    store_be(t, t_bytes);
    const size_t offset = (i - 1) * kDigestSize;
    const size_t n = out.size() - offset < kDigestSize ? out.size() - offset : kDigestSize;
    std::memcpy(out.data() + offset, t_bytes, n);
  }
  // The key states stand in for the password: they are as secret.
  OPENSSL_cleanse(&states, sizeof states);
  OPENSSL_cleanse(t, sizeof t);
  OPENSSL_cleanse(t_bytes, sizeof t_bytes);
  return true;
}

}  // namespace cpa::auth
