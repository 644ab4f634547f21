#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/keys.h"

namespace cpa::auth {
namespace {

constexpr const char* kKey = "cryptopay-test-secret";
constexpr const char* kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";
constexpr const char* kPayloadJson =
    R"({"token_type":"access","exp":1742851362,"iat":1742848362,)"
    R"("jti":"cac375465f2b4356aba27ec52c85e1a6","user_id":2})";
// Made by simplejwt 5.x for the claims above under kKey.
constexpr const char* kVector =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzQyODUxMzYyLCJpYXQiOjE3NDI4NDgzNjIsImp0aSI6ImNhYzM3"
    "NTQ2NWYyYjQzNTZhYmEyN2VjNTJjODVlMWE2IiwidXNlcl9pZCI6Mn0."
    "ZYCn13RnwM9lYczHIG2uJaOONa27XoNz5aXwBVUXe_s";
constexpr int64_t kIat = 1742848362;
constexpr int64_t kExp = 1742851362;

Claims vector_claims() {
  Claims claims;
  claims.token_type = "access";
  claims.exp = kExp;
  claims.iat = kIat;
  claims.jti = "cac375465f2b4356aba27ec52c85e1a6";
  claims.user_id = 2;
  return claims;
}

// A correctly signed token around arbitrary header and payload JSON, so that
// a rejection can only come from what the JSON says.
std::string signed_token(std::string_view header_json, std::string_view payload_json,
                         std::string_view key = kKey) {
  std::string token = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return token + "." + base64url_encode(hmac_sha256(key, token));
}

bool accepts(std::string_view token, int64_t now = kIat) {
  Claims claims;
  return decode_jwt(token, kKey, now, &claims);
}

TEST(Jwt, EncodesTheSimplejwtVector) {
  EXPECT_EQ(encode_jwt(vector_claims(), kKey), kVector);
  EXPECT_EQ(signed_token(kHeaderJson, kPayloadJson), kVector);
}

TEST(Jwt, DecodesTheSimplejwtVector) {
  Claims claims;
  ASSERT_TRUE(decode_jwt(kVector, kKey, kIat, &claims));
  EXPECT_EQ(claims.token_type, "access");
  EXPECT_EQ(claims.exp, kExp);
  EXPECT_EQ(claims.iat, kIat);
  EXPECT_EQ(claims.jti, "cac375465f2b4356aba27ec52c85e1a6");
  EXPECT_EQ(claims.user_id, 2);
  EXPECT_TRUE(decode_jwt(kVector, kKey, kIat, nullptr));  // verify only
}

TEST(Jwt, RoundTrip) {
  Claims in;
  in.token_type = "refresh";
  in.iat = 1700000000;
  in.exp = in.iat + 86400;
  in.jti = "0123456789abcdef0123456789abcdef";
  in.user_id = 9007199254740993;  // beyond a double's exact integers
  const std::string token = encode_jwt(in, "another key");
  Claims out;
  ASSERT_TRUE(decode_jwt(token, "another key", in.iat, &out));
  EXPECT_EQ(out.token_type, in.token_type);
  EXPECT_EQ(out.exp, in.exp);
  EXPECT_EQ(out.iat, in.iat);
  EXPECT_EQ(out.jti, in.jti);
  EXPECT_EQ(out.user_id, in.user_id);
  EXPECT_FALSE(decode_jwt(token, kKey, in.iat, &out));  // wrong key
}

TEST(Jwt, LeavesOutputAloneOnFailure) {
  Claims claims;
  claims.user_id = 77;
  EXPECT_FALSE(decode_jwt(kVector, kKey, kExp, &claims));
  EXPECT_EQ(claims.user_id, 77);
}

TEST(Jwt, RejectsAlgNone) {
  const std::string none_header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = base64url_encode(kPayloadJson);
  EXPECT_FALSE(accepts(none_header + "." + payload + "."));
  // Even carrying a valid HS256 signature over those two segments.
  EXPECT_FALSE(accepts(signed_token(R"({"alg":"none","typ":"JWT"})", kPayloadJson)));
}

TEST(Jwt, RejectsAnyOtherHeader) {
  const std::vector<std::string> headers = {
      R"({"alg":"HS512","typ":"JWT"})",
      R"({"alg":"hs256","typ":"JWT"})",
      R"({"alg":"HS256 ","typ":"JWT"})",
      R"({"alg":"RS256","typ":"JWT"})",
      R"({"typ":"JWT"})",
      R"({"alg":null})",
      R"({"alg":256})",
      R"({"alg":["HS256"]})",
      R"({"alg":"HS256","alg":"none"})",  // ambiguous: refused
      R"(["HS256"])",
      R"("HS256")",
      R"(null)",
      R"({"alg":"HS256"} x)",
      R"({"alg":"HS256")",
      "",
  };
  for (const std::string& header : headers) {
    EXPECT_FALSE(accepts(signed_token(header, kPayloadJson))) << header;
  }
  // Other header fields and another order are fine, as for PyJWT.
  EXPECT_TRUE(accepts(signed_token(R"({"typ":"JWT","alg":"HS256"})", kPayloadJson)));
  EXPECT_TRUE(accepts(signed_token(R"({"alg":"HS256"})", kPayloadJson)));
}

// RFC 7515 §4.1.11: a "crit" header names extensions the reader must
// understand; we understand none, so any "crit" makes the token invalid.
TEST(Jwt, RejectsCriticalHeaderExtensions) {
  for (const char* header : {R"({"alg":"HS256","typ":"JWT","crit":["exp"]})",
                             R"({"alg":"HS256","crit":["b64"],"b64":false})",
                             R"({"alg":"HS256","crit":[]})"}) {
    EXPECT_FALSE(accepts(signed_token(header, kPayloadJson))) << header;
  }
  EXPECT_TRUE(accepts(signed_token(R"({"alg":"HS256","kid":"1"})", kPayloadJson)));
}

TEST(Jwt, RejectsAFlippedSignatureByte) {
  const std::string token = kVector;
  const size_t dot = token.rfind('.');
  std::string signature;
  ASSERT_TRUE(base64url_decode(token.substr(dot + 1), &signature));
  for (size_t i = 0; i < signature.size(); ++i) {
    std::string flipped = signature;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    EXPECT_FALSE(accepts(token.substr(0, dot + 1) + base64url_encode(flipped))) << i;
  }
  // A truncated or lengthened signature.
  EXPECT_FALSE(accepts(token.substr(0, dot + 1) + base64url_encode(signature.substr(0, 31))));
  EXPECT_FALSE(accepts(token.substr(0, dot + 1) + base64url_encode(signature + "x")));
}

TEST(Jwt, RejectsAChangedPayloadUnderTheOldSignature) {
  const std::string token = kVector;
  const size_t first = token.find('.');
  const size_t last = token.rfind('.');
  std::string payload = kPayloadJson;
  payload.replace(payload.find("\"user_id\":2"), 11, "\"user_id\":1");
  EXPECT_FALSE(accepts(token.substr(0, first + 1) + base64url_encode(payload) +
                       token.substr(last)));
}

TEST(Jwt, RejectsAMissingClaim) {
  const std::string token_type = R"("token_type":"access")";
  const std::string exp = R"("exp":1742851362)";
  const std::string iat = R"("iat":1742848362)";
  const std::string jti = R"("jti":"cac375465f2b4356aba27ec52c85e1a6")";
  const std::string user_id = R"("user_id":2)";
  const std::vector<std::string> payloads = {
      "{" + exp + "," + iat + "," + jti + "," + user_id + "}",
      "{" + token_type + "," + iat + "," + jti + "," + user_id + "}",
      "{" + token_type + "," + exp + "," + jti + "," + user_id + "}",
      "{" + token_type + "," + exp + "," + iat + "," + user_id + "}",
      "{" + token_type + "," + exp + "," + iat + "," + jti + "}",
      "{}",
  };
  for (const std::string& payload : payloads) {
    EXPECT_FALSE(accepts(signed_token(kHeaderJson, payload))) << payload;
  }
  EXPECT_TRUE(accepts(signed_token(
      kHeaderJson, "{" + token_type + "," + exp + "," + iat + "," + jti + "," + user_id + "}")));
}

TEST(Jwt, RejectsClaimsOfTheWrongType) {
  const std::string jti = R"("jti":"cac375465f2b4356aba27ec52c85e1a6")";
  const std::vector<std::string> payloads = {
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":"2"})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":2.0})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":2e0})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":null})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti +
          R"(,"user_id":18446744073709551615})",
      R"({"token_type":"access","exp":1742851362.0,"iat":1742848362,)" + jti + R"(,"user_id":2})",
      R"({"token_type":"access","exp":"1742851362","iat":1742848362,)" + jti + R"(,"user_id":2})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362.5,)" + jti + R"(,"user_id":2})",
      R"({"token_type":1,"exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":2})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,"jti":7,"user_id":2})",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti +
          R"(,"user_id":2,"user_id":3})",
      R"([{"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":2}])",
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)" + jti + R"(,"user_id":2} )"
          R"({})",
  };
  for (const std::string& payload : payloads) {
    EXPECT_FALSE(accepts(signed_token(kHeaderJson, payload))) << payload;
  }
  // Extra claims are ignored, as by simplejwt.
  EXPECT_TRUE(accepts(signed_token(kHeaderJson, R"({"token_type":"access","exp":1742851362,)"
                                                R"("iat":1742848362,)" + jti +
                                                    R"(,"user_id":2,"extra":[1,{"a":null}]})")));
}

// Found by fuzz_jwt: an escaped lone low surrogate decodes to bytes that are
// not UTF-8, and re-encoding such claims gave a token that no longer decoded.
TEST(Jwt, RejectsStringClaimsThatAreNotUtf8) {
  const std::string rest = R"("exp":1742851362,"iat":1742848362,"user_id":2)";
  for (const std::string& strings :
       {std::string(R"("token_type":"\udc00","jti":"cac375465f2b4356aba27ec52c85e1a6")"),
        std::string(R"("token_type":"access","jti":"a\udfffb")")}) {
    EXPECT_FALSE(accepts(signed_token(kHeaderJson, "{" + strings + "," + rest + "}"))) << strings;
  }
  // Escapes that are UTF-8 stay accepted: a pair, and a plain one.
  Claims claims;
  ASSERT_TRUE(decode_jwt(signed_token(kHeaderJson, R"({"token_type":"\u0061ccess",)"
                                                   R"("jti":"\ud83d\ude00",)" + rest + "}"),
                         kKey, kIat, &claims));
  EXPECT_EQ(claims.token_type, "access");
  EXPECT_EQ(claims.jti, "\xf0\x9f\x98\x80");
}

TEST(Jwt, RejectsExpiredTokens) {
  EXPECT_TRUE(accepts(kVector, kExp - 1));
  EXPECT_FALSE(accepts(kVector, kExp));
  EXPECT_FALSE(accepts(kVector, kExp + 1));
}

TEST(Jwt, RejectsBadBase64) {
  const std::string token = kVector;
  const size_t first = token.find('.');
  const size_t last = token.rfind('.');
  const std::string header = token.substr(0, first);
  const std::string payload = token.substr(first + 1, last - first - 1);
  const std::string signature = token.substr(last + 1);
  const std::vector<std::string> bad = {
      header + "=." + payload + "." + signature,
      header + "." + payload + "=." + signature,
      header + "." + payload + "." + signature + "=",
      header + "." + payload + "." + signature.substr(0, 42) + "+",
      header + "." + payload + "." + signature.substr(0, 42) + "/",
      header + "." + payload + "." + signature.substr(0, 42) + "t",  // non-zero spare bits
      header + "." + payload + " ." + signature,
      " " + token,
      token + "\n",
      header + "." + payload + "." + signature.substr(0, 20) + "%" + signature.substr(21),
      header + "." + payload + std::string(1, '\0') + "." + signature,
  };
  for (const std::string& text : bad) EXPECT_FALSE(accepts(text)) << text;
}

TEST(Jwt, RejectsWrongShapes) {
  const std::string token = kVector;
  const size_t last = token.rfind('.');
  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "...",
      token.substr(0, last),                  // 2 segments
      token + "." + token.substr(last + 1),   // 4 segments
      token + ".",
      "." + token,
      "garbage",
      "not.a.jwt",
      std::string("\xff\xfe.\x00\x01.\x80", 7),
      std::string(10000, 'A') + "." + std::string(10000, 'A') + "." + std::string(43, 'A'),
  };
  for (const std::string& text : bad) EXPECT_FALSE(accepts(text)) << text.substr(0, 40);
}

TEST(Jwt, RejectsOversizedTokens) {
  const std::string claims_prefix =
      R"({"token_type":"access","exp":1742851362,"iat":1742848362,)"
      R"("jti":"cac375465f2b4356aba27ec52c85e1a6","user_id":2,"pad":")";
  EXPECT_TRUE(accepts(signed_token(kHeaderJson, claims_prefix + std::string(4000, 'x') + "\"}")));
  EXPECT_FALSE(accepts(signed_token(kHeaderJson, claims_prefix + std::string(7000, 'x') + "\"}")));
}

TEST(Jwt, SurvivesHostileJson) {
  const std::vector<std::string> payloads = {
      std::string(5000, '['),
      std::string(3000, '[') + std::string(3000, ']'),
      R"({"a":)" + std::string(3000, '{'),
      "{\"token_type\":\"acc\xff\xfess\",\"exp\":1742851362,\"iat\":1,\"jti\":\"x\",\"user_id\":2}",
      R"({"token_type":"a\u0000b","exp":1742851362,"iat":1742848362,"jti":"\ud800","user_id":2})",
      R"({"token_type":"access","exp":1e999,"iat":1742848362,"jti":"x","user_id":2})",
      R"({"token_type":"access","exp":NaN,"iat":1742848362,"jti":"x","user_id":2})",
      R"({"token_type":"access","exp":-Infinity,"iat":1742848362,"jti":"x","user_id":2})",
      std::string("{\"token_type\":\"\0\",\"exp\":1}", 27),
      "\xef\xbb\xbf{}",
      "",
      "\"",
      "{\"",
      "{\"a\"",
      "{\"a\":",
      "-",
      "1",
  };
  for (const std::string& payload : payloads) {
    EXPECT_FALSE(accepts(signed_token(kHeaderJson, payload))) << payload.substr(0, 40);
    EXPECT_FALSE(accepts(signed_token(payload, kPayloadJson))) << payload.substr(0, 40);
  }
  // A NUL inside a string is data, not an end: the claim keeps it.
  Claims claims;
  ASSERT_TRUE(decode_jwt(
      signed_token(kHeaderJson, R"({"token_type":"a\u0000b","exp":1742851362,"iat":1,)"
                                R"("jti":"j","user_id":-5})"),
      kKey, kIat, &claims));
  EXPECT_EQ(claims.token_type, std::string("a\0b", 3));
  EXPECT_EQ(claims.user_id, -5);
}

TEST(JwtBase64url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(JwtBase64url, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t length = 0; length <= bytes.size(); length += 37) {
    std::string decoded;
    ASSERT_TRUE(base64url_decode(base64url_encode(bytes.substr(0, length)), &decoded));
    EXPECT_EQ(decoded, bytes.substr(0, length));
  }
  for (size_t length = 250; length <= 256; ++length) {
    std::string decoded;
    ASSERT_TRUE(base64url_decode(base64url_encode(bytes.substr(0, length)), &decoded));
    EXPECT_EQ(decoded, bytes.substr(0, length));
  }
}

TEST(JwtBase64url, DecodeIsStrict) {
  std::string out = "untouched";
  for (const char* bad : {"Zg==", "Zg=", "Zm+v", "Zm/v", "Zm9 v", "Zm9v\n", "Z", "Zm9vY",
                          "Zh", "Zm9", "Zm-", "+w", "\x80\x80"}) {
    EXPECT_FALSE(base64url_decode(bad, &out)) << bad;
  }
  EXPECT_EQ(out, "untouched");
  ASSERT_TRUE(base64url_decode("Zm8", &out));
  EXPECT_EQ(out, "fo");
  ASSERT_TRUE(base64url_decode("", &out));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace cpa::auth
