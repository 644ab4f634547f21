// Every limit and window of API.md §2-§7 at its edge, through api::dispatch
// with the clock moved by the test (api_fixture.h): the last request inside
// a limit and the first one past it, the last second of a window and the
// first after it.
#include <string>

#include "api/limits.h"
#include "unit/api/api_fixture.h"

namespace cpa::api::testing {
namespace {

const char* const kInvalidCode = R"({"code":["Invalid or expired code."]})";
const char* const kTooManyAttempts = R"({"code":["Too many attempts. Request a new code."]})";
const char* const kInvalidPin = R"({"pin":["Invalid PIN."]})";

std::string throttled(int64_t seconds) {
  return R"({"detail":"Request was throttled. Expected available in )" + std::to_string(seconds) +
         (seconds == 1 ? " second.\"}" : " seconds.\"}");
}

std::string registration(const std::string& email) {
  return R"({"email":")" + email + R"(","terms_accepted":true})";
}

std::string verification(const std::string& email, const std::string& code) {
  return R"({"email":")" + email + R"(","code":")" + code + R"(","purpose":"email_verification"})";
}

class LimitsTest : public ApiTest {
 protected:
  // A 🔒 caller with a PIN set: its access token.
  std::string user_with_pin(const std::string& email, const std::string& pin = "1234") {
    make_user(email);
    std::string access = login(email).second;
    EXPECT_EQ(post("set-pin/", R"({"pin":")" + pin + R"(","repeat_pin":")" + pin + R"("})", access)
                  .status,
              200);
    return access;
  }
};

// §2: the 5th wrong guess still gets the normal error; after it, even the
// right code is refused.
TEST_F(LimitsTest, FiveWrongGuessesBurnTheCode) {
  ASSERT_EQ(post("users/", registration("burn@example.com")).status, 201);
  for (int i = 1; i <= limits::kCodeMaxWrongGuesses; ++i)
    EXPECT_EQ(post("verify-code/", verification("burn@example.com", "000000")).body, kInvalidCode) << i;
  EXPECT_EQ(post("verify-code/", verification("burn@example.com", code())).body, kTooManyAttempts);
}

TEST_F(LimitsTest, FourWrongGuessesLeaveTheRightOneWorking) {
  ASSERT_EQ(post("users/", registration("four@example.com")).status, 201);
  for (int i = 1; i < limits::kCodeMaxWrongGuesses; ++i)
    post("verify-code/", verification("four@example.com", "000000"));
  EXPECT_EQ(post("verify-code/", verification("four@example.com", code())).status, 200);
}

// §2: a code lives code_ttl seconds (600): valid in its last second, dead at it.
TEST_F(LimitsTest, ACodeLivesTenMinutes) {
  ASSERT_EQ(post("users/", registration("ttl@example.com")).status, 201);
  clock_.advance(config_.code_ttl - 1);
  EXPECT_EQ(post("verify-code/", verification("ttl@example.com", code())).status, 200);

  ASSERT_EQ(post("users/", registration("late@example.com")).status, 201);
  clock_.advance(config_.code_ttl);
  EXPECT_EQ(post("verify-code/", verification("late@example.com", code())).body, kInvalidCode);
}

TEST_F(LimitsTest, ACodeIsSingleUseAndANewOneKillsTheOld) {
  rng_.code_draw = 1;
  Answer registered = post("users/", registration("one@example.com"));
  ASSERT_EQ(registered.status, 201);
  const std::string first = code();
  clock_.advance(limits::kSendInterval);
  rng_.code_draw = 2;
  // An unfinished registration: the same user (any case), a fresh code.
  Answer again = post("users/", registration("ONE@example.com"));
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.body, registered.body);
  EXPECT_EQ(post("verify-code/", verification("one@example.com", first)).body, kInvalidCode);
  EXPECT_EQ(post("verify-code/", verification("one@example.com", code())).status, 200);
  EXPECT_EQ(post("verify-code/", verification("one@example.com", code())).body, kInvalidCode);
}

// §2: one code a minute per (email, purpose): 429 at +59 s, sent at +60 s.
TEST_F(LimitsTest, OneCodeAMinute) {
  ASSERT_EQ(post("users/", registration("minute@example.com")).status, 201);
  clock_.advance(limits::kSendInterval - 1);
  Answer early = post("users/", registration("minute@example.com"));
  EXPECT_EQ(early.status, 429);
  EXPECT_EQ(early.body, throttled(1));
  EXPECT_EQ(*early.response.header("Retry-After"), "1");
  clock_.advance(1);
  EXPECT_EQ(post("users/", registration("minute@example.com")).status, 201);
}

// §2: ten codes an hour: the 11th waits for the first to leave the window.
TEST_F(LimitsTest, TenCodesAnHour) {
  for (int i = 0; i < limits::kSendMaxPerWindow; ++i) {
    ASSERT_EQ(post("users/", registration("hour@example.com")).status, 201) << i;
    clock_.advance(limits::kSendInterval);
  }
  // 10 sent, the first 600 s ago: the window frees it at +3600.
  const int64_t wait = limits::kSendWindow - limits::kSendInterval * limits::kSendMaxPerWindow;
  Answer over = post("users/", registration("hour@example.com"));
  EXPECT_EQ(over.status, 429);
  EXPECT_EQ(over.body, throttled(wait));
  clock_.advance(wait);
  EXPECT_EQ(post("users/", registration("hour@example.com")).status, 201);
}

// §2: resend-code/ and recovery-request/ apply the limit silently.
TEST_F(LimitsTest, SilentRoutesStayTwoHundredOverTheLimit) {
  make_user("silent@example.com");
  rng_.code_draw = 10;
  ASSERT_EQ(post("recovery-request/", R"({"email":"silent@example.com"})").status, 200);
  const std::string first = code();
  rng_.code_draw = 20;
  Answer again = post("recovery-request/", R"({"email":"silent@example.com"})");
  EXPECT_EQ(again.status, 200);
  // Nothing was sent: the first code is still the live one.
  EXPECT_EQ(post("verify-code/", R"({"email":"silent@example.com","code":")" + first +
                                     R"(","purpose":"password_recovery"})")
                .status,
            200);
}

// §3: resend-code/ sends an unfinished account a fresh code once its minute
// is over; a finished account gets none, whatever the time.
TEST_F(LimitsTest, ResendCodeSendsAFreshVerificationCode) {
  const std::string resend = R"({"email":"again@example.com","purpose":"email_verification"})";
  rng_.code_draw = 1;
  ASSERT_EQ(post("users/", registration("again@example.com")).status, 201);
  clock_.advance(limits::kSendInterval);
  rng_.code_draw = 2;
  EXPECT_EQ(post("resend-code/", resend).body,
            R"({"detail":"If the account exists, a new code has been sent."})");
  EXPECT_EQ(post("verify-code/", verification("again@example.com", code_for_draw(1))).body,
            kInvalidCode);
  EXPECT_EQ(post("verify-code/", verification("again@example.com", code())).status, 200);
}

TEST_F(LimitsTest, NoVerificationCodeForAFinishedAccount) {
  make_user("done@example.com");
  clock_.advance(limits::kSendInterval);
  rng_.code_draw = 7;
  EXPECT_EQ(post("resend-code/", R"({"email":"done@example.com","purpose":"email_verification"})")
                .status,
            200);
  // No code went out: the guess goes against a decoy, never matching.
  EXPECT_EQ(post("verify-code/", verification("done@example.com", code())).body, kInvalidCode);
}

// §2: an email released by deletion may register again at once.
TEST_F(LimitsTest, DeletingAnAccountClearsItsSendHistory) {
  make_user("gone@example.com");
  std::string access = login("gone@example.com").second;
  ASSERT_EQ(send("DELETE", "users/me/", R"({"current_password":")" + std::string(kPassword) + R"("})",
                 access)
                .status,
            204);
  EXPECT_EQ(post("users/", registration("gone@example.com")).status, 201);
}

// §3: the first password within 30 minutes of verifying, and only once.
TEST_F(LimitsTest, FirstPasswordWindowIsThirtyMinutes) {
  const std::string set = R"(","password":"a fine password","repeat_password":"a fine password"})";
  for (const char* email : {"edge@example.com", "past@example.com"}) {
    ASSERT_EQ(post("users/", registration(email)).status, 201);
    ASSERT_EQ(post("verify-code/", verification(email, code())).status, 200);
  }
  clock_.advance(limits::kFirstPasswordWindow);
  EXPECT_EQ(post("public-set-password/", R"({"email":"edge@example.com)" + set).status, 200);
  EXPECT_EQ(post("public-set-password/", R"({"email":"edge@example.com)" + set).body,
            R"({"non_field_errors":["Password cannot be set for this account."]})");
  clock_.advance(1);
  EXPECT_EQ(post("public-set-password/", R"({"email":"past@example.com)" + set).body,
            R"({"non_field_errors":["Password cannot be set for this account."]})");
}

// §4: the login failure window is 15 minutes, sliding.
TEST_F(LimitsTest, LoginFailuresLeaveTheWindowAfterFifteenMinutes) {
  make_user("slide@example.com");
  const std::string wrong = R"({"email":"slide@example.com","password":"not it"})";
  for (int i = 0; i < limits::kLoginMaxFailuresPerAddress; ++i) post("token/obtain/", wrong);
  clock_.advance(limits::kLoginFailureWindow - 1);
  EXPECT_EQ(post("token/obtain/", wrong).body, throttled(1));
  clock_.advance(1);
  EXPECT_EQ(post("token/obtain/", wrong).status, 401);
}

TEST_F(LimitsTest, SuccessfulLoginsAreNotCounted) {
  make_user("fine@example.com");
  for (int i = 0; i < limits::kLoginMaxFailuresPerAddress + 5; ++i) login("fine@example.com");
  const std::string wrong = R"({"email":"fine@example.com","password":"not it"})";
  EXPECT_EQ(post("token/obtain/", wrong).status, 401);
}

// §4: lifetimes. An access token works in its last second and not at its
// expiry; so does a refresh token.
TEST_F(LimitsTest, TokenLifetimes) {
  make_user("life@example.com");
  auto [refresh, access] = login("life@example.com");
  clock_.advance(config_.access_ttl - 1);
  EXPECT_EQ(send("GET", "users/me/", "", access).status, 200);
  clock_.advance(1);
  EXPECT_EQ(send("GET", "users/me/", "", access).status, 401);

  clock_.advance(config_.refresh_ttl - config_.access_ttl - 1);
  EXPECT_EQ(post("token/verify/", R"({"token":")" + refresh + R"("})").status, 200);
  clock_.advance(1);
  EXPECT_EQ(post("token/refresh/", R"({"refresh":")" + refresh + R"("})").body,
            R"({"detail":"Token is invalid or expired","code":"token_not_valid"})");
}

// §4: rotation, reuse as theft, the family revoke.
TEST_F(LimitsTest, ReusingARotatedRefreshTokenRevokesTheFamily) {
  make_user("thief@example.com");
  auto [refresh, access] = login("thief@example.com");
  auto [other_refresh, other_access] = login("thief@example.com");  // another family
  Answer rotated = post("token/refresh/", R"({"refresh":")" + refresh + R"("})");
  ASSERT_EQ(rotated.status, 200);
  const std::string blacklisted = R"({"detail":"Token is blacklisted","code":"token_not_valid"})";
  EXPECT_EQ(post("token/refresh/", R"({"refresh":")" + refresh + R"("})").body, blacklisted);
  // Every token of that family is gone, the other login's are not.
  EXPECT_EQ(post("token/refresh/", R"({"refresh":")" + rotated.str("refresh") + R"("})").body,
            blacklisted);
  EXPECT_EQ(send("GET", "users/me/", "", rotated.str("access")).status, 401);
  EXPECT_EQ(send("GET", "users/me/", "", access).status, 401);
  EXPECT_EQ(send("GET", "users/me/", "", other_access).status, 200);
  EXPECT_EQ(post("token/refresh/", R"({"refresh":")" + other_refresh + R"("})").status, 200);
}

// §4: a password change or reset revokes every token issued before it.
TEST_F(LimitsTest, PasswordChangeAndResetRevokeEveryToken) {
  make_user("revoke@example.com");
  auto [refresh, access] = login("revoke@example.com");
  auto [refresh2, access2] = login("revoke@example.com");
  ASSERT_EQ(post("users/set_password/",
                 R"({"current_password":")" + std::string(kPassword) +
                     R"(","new_password":"brand new secret","re_new_password":"brand new secret"})",
                 access)
                .status,
            204);
  for (const std::string& a : {access, access2}) EXPECT_EQ(send("GET", "users/me/", "", a).status, 401);
  for (const std::string& r : {refresh, refresh2})
    EXPECT_EQ(post("token/verify/", R"({"token":")" + r + R"("})").status, 401);

  Answer fresh = post("token/obtain/",
                      R"({"email":"revoke@example.com","password":"brand new secret"})");
  ASSERT_EQ(fresh.status, 200);
  ASSERT_EQ(post("recovery-request/", R"({"email":"revoke@example.com"})").status, 200);
  ASSERT_EQ(post("recovery-reset-password/",
                 R"({"email":"revoke@example.com","code":")" + code() +
                     R"(","password":"reset secret here","password2":"reset secret here"})")
                .status,
            200);
  EXPECT_EQ(send("GET", "users/me/", "", fresh.str("access")).status, 401);
  EXPECT_EQ(post("token/refresh/", R"({"refresh":")" + fresh.str("refresh") + R"("})").status, 401);
}

// §6: five wrong PINs in a row lock PIN checks for 15 minutes; the 5th still
// says "Invalid PIN."; the lock ends on time and the strikes start over.
TEST_F(LimitsTest, PinLockAndItsEnd) {
  std::string access = user_with_pin("lock@example.com");
  for (int i = 1; i <= limits::kPinMaxStrikes; ++i)
    EXPECT_EQ(post("verify-pin/", R"({"pin":"9999"})", access).body, kInvalidPin) << i;
  Answer locked = post("verify-pin/", R"({"pin":"1234"})", access);
  EXPECT_EQ(locked.body, throttled(limits::kPinLockSeconds));
  // A wrong current_pin in set-pin/ meets the same lock.
  EXPECT_EQ(post("set-pin/", R"({"pin":"5678","repeat_pin":"5678","current_pin":"1234"})", access)
                .status,
            429);
  clock_.advance(limits::kPinLockSeconds - 1);
  EXPECT_EQ(post("verify-pin/", R"({"pin":"1234"})", access).body, throttled(1));
  clock_.advance(1);
  // The lock ran out: four wrong, then the right one, then one wrong is not a lock.
  for (int i = 1; i < limits::kPinMaxStrikes; ++i)
    EXPECT_EQ(post("verify-pin/", R"({"pin":"9999"})", access).body, kInvalidPin);
  EXPECT_EQ(post("verify-pin/", R"({"pin":"1234"})", access).status, 200);
  EXPECT_EQ(post("verify-pin/", R"({"pin":"9999"})", access).body, kInvalidPin);
  EXPECT_EQ(post("verify-pin/", R"({"pin":"1234"})", access).status, 200);
}

// §6: reset-pin-verify/ opens a 10-minute window in which set-pin/ needs no
// current_pin, once.
TEST_F(LimitsTest, PinResetWindowIsTenMinutes) {
  std::string access = user_with_pin("window@example.com");
  ASSERT_EQ(post("reset-pin-request/", "", access).status, 200);
  ASSERT_EQ(post("reset-pin-verify/", R"({"code":")" + code() + R"("})", access).status, 200);
  clock_.advance(limits::kPinResetWindow - 1);
  EXPECT_EQ(post("set-pin/", R"({"pin":"2468","repeat_pin":"2468"})", access).status, 200);
  EXPECT_EQ(post("set-pin/", R"({"pin":"1357","repeat_pin":"1357"})", access).body,
            R"({"current_pin":["This field is required."]})");

  clock_.advance(limits::kSendInterval);
  ASSERT_EQ(post("reset-pin-request/", "", access).status, 200);
  ASSERT_EQ(post("reset-pin-verify/", R"({"code":")" + code() + R"("})", access).status, 200);
  clock_.advance(limits::kPinResetWindow);
  EXPECT_EQ(post("set-pin/", R"({"pin":"1357","repeat_pin":"1357"})", access).body,
            R"({"current_pin":["This field is required."]})");
}

// §6: a one-shot reset sets the PIN and clears a lock.
TEST_F(LimitsTest, OneShotPinResetClearsTheLock) {
  std::string access = user_with_pin("oneshot@example.com");
  for (int i = 0; i < limits::kPinMaxStrikes; ++i) post("verify-pin/", R"({"pin":"9999"})", access);
  ASSERT_EQ(post("verify-pin/", R"({"pin":"1234"})", access).status, 429);
  ASSERT_EQ(post("reset-pin-request/", "", access).status, 200);
  Answer reset = post("reset-pin-verify/",
                      R"({"code":")" + code() + R"(","pin":"2468","repeat_pin":"2468"})", access);
  EXPECT_EQ(reset.body, R"({"detail":"PIN has been reset."})");
  EXPECT_EQ(post("verify-pin/", R"({"pin":"2468"})", access).status, 200);
}

// §6: the send limit applies to reset-pin-request/ with a 429.
TEST_F(LimitsTest, PinResetCodesAreLimited) {
  std::string access = user_with_pin("pinsend@example.com");
  ASSERT_EQ(post("reset-pin-request/", "", access).status, 200);
  EXPECT_EQ(post("reset-pin-request/", "", access).body, throttled(limits::kSendInterval));
}

// §6: an email-change code is valid for code_ttl; the change releases the
// old address at once.
TEST_F(LimitsTest, EmailChangeCodeExpiresAndTheOldAddressIsReleased) {
  make_user("before@example.com");
  std::string access = login("before@example.com").second;
  const std::string request =
      R"({"new_email":"after@example.com","password":")" + std::string(kPassword) + R"("})";
  ASSERT_EQ(post("reset-email-request/", request, access).status, 200);
  clock_.advance(config_.code_ttl);
  EXPECT_EQ(post("reset-email-verify/", R"({"code":")" + code() + R"("})", access).body,
            kInvalidCode);
  ASSERT_EQ(post("reset-email-request/", request, access).status, 200);
  EXPECT_EQ(post("reset-email-verify/", R"({"code":")" + code() + R"("})", access).status, 200);
  EXPECT_EQ(post("users/", registration("before@example.com")).status, 201);
}

}  // namespace
}  // namespace cpa::api::testing
