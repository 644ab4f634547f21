// `createsuperuser --email E`: an active, email-verified, terms-accepted
// staff and superuser account with a Django PBKDF2 hash. On a terminal the
// password is asked twice with echo off; otherwise it is the first line of
// standard input, without its newline and otherwise untouched. The password
// rules of the API apply (API.md §3), each broken rule on its own line.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

#include "auth/password.h"
#include "auth/password_rules.h"
#include "cli/cli.h"
#include "core/email.h"
#include "core/strings.h"
#include "core/utf8.h"

namespace cpa::cli {

namespace {

// The terminal settings to put back, also from a signal handler.
struct termios g_saved_termios;
volatile sig_atomic_t g_echo_off = 0;
constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr size_t kSignalCount = sizeof kRestoreSignals / sizeof kRestoreSignals[0];

void restore_echo_and_reraise(int sig) {
  if (g_echo_off) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  signal(sig, SIG_DFL);
  raise(sig);
}

// Echo off on the terminal of stdin while it lives (canonical input stays on,
// so the line can still be edited). Ctrl-C puts echo back before dying.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    struct sigaction sa = {};
    sa.sa_handler = restore_echo_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < kSignalCount; ++i) sigaction(kRestoreSignals[i], &sa, &old_[i]);
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    g_echo_off = 1;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) g_echo_off = 0;
    ok_ = g_echo_off;
    handlers_set_ = true;
  }
  ~EchoOff() {
    if (g_echo_off) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
    g_echo_off = 0;
    if (handlers_set_)
      for (size_t i = 0; i < kSignalCount; ++i) sigaction(kRestoreSignals[i], &old_[i], nullptr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

  bool ok() const { return ok_; }

 private:
  struct sigaction old_[kSignalCount] = {};
  bool handlers_set_ = false;
  bool ok_ = false;
};

// One line of `in` without its newline; nullopt at end of input before any character.
std::optional<std::string> read_line(FILE* in) {
  std::string line;
  int c;
  while ((c = fgetc(in)) != EOF) {
    if (c == '\n') return line;
    line.push_back(static_cast<char>(c));
  }
  if (line.empty()) return std::nullopt;
  return line;
}

Produced<std::string> read_password() {
  if (!isatty(STDIN_FILENO)) {
    std::optional<std::string> line = read_line(stdin);
    if (!line) return Outcome::Refused("no password on standard input (expected one line)");
    return std::move(*line);
  }
  EchoOff echo_off;
  if (!echo_off.ok()) return Outcome::Refused("cannot turn off the terminal's echo");
  std::optional<std::string> answers[2];
  const char* prompts[2] = {"Password: ", "Password (again): "};
  for (int i = 0; i < 2; ++i) {
    // The prompt comes after echo is off: whoever sees it may type.
    fputs(prompts[i], stderr);
    fflush(stderr);
    answers[i] = read_line(stdin);
    fputs("\n", stderr);  // the newline the terminal did not echo
    if (!answers[i]) return Outcome::Refused("no password given");
  }
  if (*answers[0] != *answers[1]) return Outcome::Refused("the two passwords didn't match");
  return std::move(*answers[0]);
}

// The field rule (at most 128 characters) first; the validators only when it passed.
Outcome check_password_rules(const std::string& password, std::string_view email) {
  std::vector<std::string> problems;
  if (utf8_length(password) > auth::kMaxPasswordLength) {
    problems.push_back("Ensure the password has no more than " +
                       std::to_string(auth::kMaxPasswordLength) + " characters.");
  } else {
    problems = auth::password_problems(password, email);
  }
  return problems.empty() ? Outcome() : Outcome::Invalid(std::move(problems));
}

Outcome check_email_free(store::Store& store, const std::string& key) {
  CPA_ASSIGN_OR_RETURN(std::optional<store::User> existing, store.user_by_email_key(key));
  if (existing) return Outcome::Refused("a user with this email already exists");
  return Outcome();
}

}  // namespace

Outcome createsuperuser(Context& ctx, const Args& args) {
  const std::string* given = args.value("--email");
  if (!given) return Outcome::Usage("--email E is required");
  std::string_view trimmed = trim_whitespace(*given);
  if (utf8_length(trimmed) > kMaxEmailLength || !is_valid_email(trimmed)) {
    return Outcome::Refused("'" + printable(*given) + "' is not a valid email address");
  }
  store::NewUser user;
  user.email = display_email(trimmed);
  user.email_key = email_key(trimmed);
  // Refused before the password is asked for, and again under the write lock.
  CPA_RETURN_IF_ERROR(check_email_free(ctx.store, user.email_key));

  CPA_ASSIGN_OR_RETURN(std::string password, read_password());
  CPA_RETURN_IF_ERROR(check_password_rules(password, user.email));
  // Hashed before the write lock is taken: the hash is the slow part.
  user.password = auth::hash_password(password, ctx.config.pbkdf2_iterations, ctx.rng);
  user.terms_accepted = true;
  user.email_verified = true;
  user.is_active = true;
  user.is_staff = true;
  user.is_superuser = true;
  user.date_joined = ctx.clock.now();

  int64_t id = 0;
  CPA_RETURN_IF_ERROR(write(ctx.store, [&]() -> Outcome {
    CPA_RETURN_IF_ERROR(check_email_free(ctx.store, user.email_key));
    CPA_ASSIGN_OR_RETURN(id, ctx.store.insert_user(user));
    return Outcome();
  }));
  ctx.done = "created staff user " + std::to_string(id) + " " + printable(user.email);
  return Outcome();
}

}  // namespace cpa::cli
