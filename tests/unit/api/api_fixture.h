// ApiTest: requests driven through api::dispatch, in-process, against a real
// Store on tmpfs, with a ManualClock (time moves without sleeping) and an Rng
// whose codes the test chooses. Hashes cost one iteration here: the limits
// and windows of API.md are what these tests show, in milliseconds.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/context.h"
#include "api/dispatch.h"
#include "auth/jwt.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"
#include "metrics/counters.h"
#include "store/store.h"
#include "unit/scratch_dir.h"
#include "unit/test_database.h"

namespace cpa::api::testing {

// Real random bytes, except the 4-byte draws that make codes (and salts):
// each is `code_draw`, so every code issued is code_for_draw(code_draw).
// `on_draw`, when set, runs once at the next draw of any size: a test's way
// into the middle of a handler (between a password check and its write).
class TestRng final : public Rng {
 public:
  void fill(uint8_t* out, size_t n) override {
    if (on_draw) {
      auto hook = std::move(on_draw);
      on_draw = nullptr;
      hook();
    }
    if (n == sizeof code_draw) {
      std::memcpy(out, &code_draw, n);
    } else {
      real_.fill(out, n);
    }
  }

  uint32_t code_draw = 123456;
  std::function<void()> on_draw;

 private:
  SystemRng real_;
};

inline std::string code_for_draw(uint32_t draw) { return std::to_string(100000 + draw % 900000); }

struct Answer {
  int status = 0;
  std::string body;
  http::Response response;
  metrics::Tally tally;  // what the request did, as the worker would count it

  // A member of the JSON object body, as a string ("" when absent).
  std::string str(const char* name) const {
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    if (!doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) return "";
    return doc[name].GetString();
  }
};

class ApiTest : public ::testing::Test {
 protected:
  static constexpr const char* kPassword = "correct horse battery";
  static constexpr const char* kAddress = "198.51.100.7";

  void SetUp() override {
    const std::string& db = database_.location();
    Status st = store::Store::migrate(db, 5000);
    ASSERT_TRUE(st.ok()) << st.reason();
    auto opened = store::Store::open(db, 5000);
    ASSERT_TRUE(opened.ok()) << opened.status().reason();
    store_ = std::move(opened.value());
    config_.pbkdf2_iterations = 1;
    config_.pin_iterations = 1;
    config_.secret_key = "api-test-secret-key-0123456789";
    keys_ = auth::Keys::derive(config_.secret_key);
    services_ = std::make_unique<Services>(Services{config_, *store_, clock_, rng_, keys_});
  }

  void TearDown() override {
    services_.reset();
    store_.reset();
  }

  // One request as nginx would pass it: JSON body, the client address.
  Answer send(const std::string& method, const std::string& path, const std::string& json = "",
              const std::string& access = "", const std::string& address = kAddress) {
    http::Request req;
    req.method = method;
    req.path = "/api/v1/auth/" + path;
    req.raw_path = req.path;
    const size_t q = path.find('?');
    if (q != std::string::npos) {
      req.path = "/api/v1/auth/" + path.substr(0, q);
      req.raw_path = req.path;
      req.query = path.substr(q + 1);
    }
    if (!json.empty()) req.content_type = "application/json";
    req.body = json;
    req.remote_addr = address;
    req.host = host_;
    req.request_id = "test";
    if (!access.empty()) req.headers.emplace_back("authorization", "Bearer " + access);
    for (const auto& header : headers_) req.headers.push_back(header);
    RouteMatch match = resolve(req);
    Answer a;
    a.response = dispatch(req, std::move(match), *services_, a.tally);
    a.status = a.response.status;
    a.body = a.response.body;
    return a;
  }

  Answer post(const std::string& path, const std::string& json, const std::string& access = "",
              const std::string& address = kAddress) {
    return send("POST", path, json, access, address);
  }

  std::string code() const { return code_for_draw(rng_.code_draw); }

  // The jti of a token this service signed, whatever its age (now = 0).
  std::string jti_of(const std::string& token) const {
    auth::Claims claims;
    EXPECT_TRUE(auth::decode_jwt(token, keys_.jwt, 0, &claims)) << token;
    return claims.jti;
  }

  // An active account with kPassword, registered through the API; its id.
  int64_t make_user(const std::string& email, const std::string& address = kAddress) {
    EXPECT_EQ(post("users/", R"({"email":")" + email + R"(","terms_accepted":true})", "", address)
                  .status,
              201);
    EXPECT_EQ(post("verify-code/", R"({"email":")" + email + R"(","code":")" + code() +
                                       R"(","purpose":"email_verification"})",
                   "", address)
                  .status,
              200);
    Answer set = post("public-set-password/", R"({"email":")" + email + R"(","password":")" +
                                                  kPassword + R"(","repeat_password":")" +
                                                  kPassword + R"("})",
                      "", address);
    EXPECT_EQ(set.status, 200) << set.body;
    auto user = store_->user_by_email_key(email);
    return user.ok() && *user ? (*user)->id : 0;
  }

  // token/obtain/ with kPassword: {refresh, access}.
  std::pair<std::string, std::string> login(const std::string& email,
                                            const std::string& address = kAddress) {
    Answer a = post("token/obtain/",
                    R"({"email":")" + email + R"(","password":")" + kPassword + R"("})", "", address);
    EXPECT_EQ(a.status, 200) << a.body;
    return {a.str("refresh"), a.str("access")};
  }

  cpa::testing::ScratchDir scratch_{"cpa-api"};  // first: removed last
  cpa::testing::TestDatabase database_{scratch_.path()};
  std::string host_ = "127.0.0.1:8080";  // the Host header sent
  // More request headers for every request, names lower-cased as FastCGI
  // gives them (e.g. {"user-agent", "..."}).
  std::vector<std::pair<std::string, std::string>> headers_;
  Config config_;
  ManualClock clock_{1'800'000'000};
  TestRng rng_;
  auth::Keys keys_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Services> services_;
};

}  // namespace cpa::api::testing
