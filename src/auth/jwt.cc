#include "auth/jwt.h"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <utility>

#include "auth/keys.h"
#include "core/utf8.h"

namespace cpa::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// base64url('{"alg":"HS256","typ":"JWT"}'): simplejwt's header, byte for byte.
constexpr std::string_view kHeaderSegment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
// Far above any token we issue (~250 bytes); keeps parsing cheap for garbage.
constexpr size_t kMaxTokenLength = 8192;
constexpr size_t kSignatureLength = 32;

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// A JSON object from `text`, or false. Iterative parsing: no recursion that a
// deeply nested input could use to exhaust the stack.
bool parse_object(const std::string& text, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(
      text.data(), text.size());
  return !doc->HasParseError() && doc->IsObject();
}

// The member called `name`, or null when it is absent or appears twice (a
// duplicate would make "which one counts" a question of the parser).
const rapidjson::Value* unique_member(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* found = nullptr;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key != name) continue;
    if (found != nullptr) return nullptr;
    found = &it->value;
  }
  return found;
}

// Strings that are UTF-8: RapidJSON decodes an escaped lone low surrogate
// ("\udc00") to bytes that are not, which no token we sign could contain.
bool string_member(const rapidjson::Value& object, std::string_view name, std::string* out) {
  const rapidjson::Value* value = unique_member(object, name);
  if (value == nullptr || !value->IsString()) return false;
  const std::string_view text(value->GetString(), value->GetStringLength());
  if (!is_valid_utf8(text)) return false;
  out->assign(text);
  return true;
}

// JSON integers only: 2.0, "2" and 1e3 are refused.
bool int_member(const rapidjson::Value& object, std::string_view name, int64_t* out) {
  const rapidjson::Value* value = unique_member(object, name);
  if (value == nullptr || !value->IsInt64()) return false;
  *out = value->GetInt64();
  return true;
}

bool header_is_hs256(std::string_view segment) {
  if (segment == kHeaderSegment) return true;  // what we and simplejwt send
  std::string json;
  rapidjson::Document doc;
  std::string alg;
  // "crit" names extensions the token requires its reader to understand; we
  // understand none, so RFC 7515 §4.1.11 says the token is invalid.
  return base64url_decode(segment, &json) && parse_object(json, &doc) &&
         string_member(doc, "alg", &alg) && alg == "HS256" && !doc.HasMember("crit");
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[n >> 18]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[n >> 18]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string* out) {
  // A lone trailing character carries only 6 bits: no byte ends there.
  if (text.size() % 4 == 1) return false;
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    const int value = base64url_value(c);
    if (value < 0) return false;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      bytes.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
    }
  }
  // The bits left over must be zero: one byte string, one spelling.
  if ((bits & ((1u << bit_count) - 1)) != 0) return false;
  *out = std::move(bytes);
  return true;
}

std::string encode_jwt(const Claims& claims, std::string_view key) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("token_type");
  writer.String(claims.token_type);
  writer.Key("exp");
  writer.Int64(claims.exp);
  writer.Key("iat");
  writer.Int64(claims.iat);
  writer.Key("jti");
  writer.String(claims.jti);
  writer.Key("user_id");
  writer.Int64(claims.user_id);
  writer.EndObject();

  std::string token(kHeaderSegment);
  token.push_back('.');
  token.append(base64url_encode(std::string_view(buffer.GetString(), buffer.GetSize())));
  const std::string signature = hmac_sha256(key, token);
  token.push_back('.');
  token.append(base64url_encode(signature));
  return token;
}

bool decode_jwt(std::string_view token, std::string_view key, int64_t now, Claims* out) {
  if (token.size() > kMaxTokenLength) return false;
  const size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return false;
  const size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos) return false;
  if (token.find('.', second_dot + 1) != std::string_view::npos) return false;

  const std::string_view header = token.substr(0, first_dot);
  const std::string_view payload = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_text = token.substr(second_dot + 1);

  if (!header_is_hs256(header)) return false;

  // The signature covers the two segments as sent; nothing in the payload is
  // looked at before it is checked.
  std::string signature;
  if (!base64url_decode(signature_text, &signature) || signature.size() != kSignatureLength) {
    return false;
  }
  const std::string expected = hmac_sha256(key, token.substr(0, second_dot));
  if (CRYPTO_memcmp(signature.data(), expected.data(), kSignatureLength) != 0) return false;

  std::string json;
  rapidjson::Document doc;
  if (!base64url_decode(payload, &json) || !parse_object(json, &doc)) return false;
  Claims claims;
  if (!string_member(doc, "token_type", &claims.token_type) ||
      !int_member(doc, "exp", &claims.exp) || !int_member(doc, "iat", &claims.iat) ||
      !string_member(doc, "jti", &claims.jti) || !int_member(doc, "user_id", &claims.user_id)) {
    return false;
  }
  if (claims.exp <= now) return false;  // PyJWT too: expired once exp <= now
  if (out != nullptr) *out = std::move(claims);
  return true;
}

}  // namespace cpa::auth
