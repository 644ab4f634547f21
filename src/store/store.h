// Store: every query the service makes, behind one interface. The SQL lives
// in store/*.cc, one file per table group; nothing outside this folder sees
// SQL or SQLite. A PostgreSQL port replaces those files and keeps this header.
//
// One Store per process (a worker, the mailer, a CLI command), over one
// connection. Reads run on their own; anything that checks and then changes
// state runs inside write(), which holds SQLite's write lock (BEGIN IMMEDIATE)
// for the whole check-and-update, so limits and counters are exact across
// processes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cpa::store {

class Db;

struct User {
  int64_t id = 0;
  std::string email;
  std::string email_key;
  std::optional<std::string> password;  // Django hash; nullopt until set
  std::string first_name;
  std::string last_name;
  bool terms_accepted = false;
  bool email_verified = false;
  std::optional<int64_t> verified_at;
  bool is_active = false;
  bool is_staff = false;
  bool is_superuser = false;
  int64_t date_joined = 0;
  std::optional<int64_t> last_login;
  std::optional<std::string> pin_hash;
  int pin_failures = 0;
  int64_t pin_locked_until = 0;
  int64_t pin_reset_until = 0;
};

struct NewUser {
  std::string email;
  std::string email_key;
  std::optional<std::string> password;
  bool terms_accepted = false;
  bool email_verified = false;
  bool is_active = false;
  bool is_staff = false;
  bool is_superuser = false;
  int64_t date_joined = 0;
};

struct Code {
  int64_t user_id = 0;
  std::string purpose;
  std::string code_hash;
  std::optional<std::string> new_email;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int attempts = 0;
  std::optional<int64_t> used_at;
};

struct Token {
  // 32 lowercase hex, the first 8 its expiry time: pruning deletes expired
  // rows as a range of this key (see schema.sql).
  std::string jti;
  int64_t user_id = 0;
  std::string token_type;  // "access" | "refresh"
  std::string family;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> revoked_at;
  bool rotated = false;  // revoked by its own rotation and nothing else (API.md §4 grace)
};

// One session (API.md §9): a token/obtain/ and every token refreshed from it.
struct Session {
  std::string id;           // the family: the jti of its first refresh token
  int64_t user_id = 0;
  std::string refresh_jti;  // its newest refresh token
  int64_t created_at = 0;
  int64_t last_used_at = 0;  // its latest obtain or refresh
  std::string ip;            // the client address of that request
  std::string user_agent;    // its User-Agent, already cut to 256 characters
};

struct ThrottleWindow {
  int64_t count = 0;     // events since the window start
  int64_t oldest = 0;    // their earliest time (0 when none)
  int64_t newest = 0;    // their latest time (0 when none)
};

// The code a code mail carries. The mailer sends the mail only while this
// code is still the live one: a newer code for (user, purpose) has another
// hash; a used, expired, burnt or deleted one fails the check too.
struct CodeRef {
  int64_t user_id = 0;
  std::string purpose;
  std::string code_hash;  // codes.code_hash
};

// A message to queue: a code mail (with `code`; sent before notices, and only
// while its code is live) or a notice (without). `sealed`: subject and body
// are sealed bytes (mail/outbox_seal), stored as they are.
struct OutboxMail {
  std::string recipient = {};
  std::string subject = {};
  std::string body = {};
  bool sealed = false;
  std::optional<CodeRef> code = {};
};

struct Mail {
  int64_t id = 0;
  std::string recipient;
  std::string subject;  // sealed bytes when `sealed` (mail/outbox_seal opens them)
  std::string body;     // likewise; empty once sent or expired
  std::string status;  // pending | sent | failed | expired (a code mail whose code died)
  int attempts = 0;
  int64_t next_attempt_at = 0;
  std::optional<std::string> last_error;
  int64_t created_at = 0;
  std::optional<int64_t> sent_at;
  std::optional<CodeRef> code;  // set for code mails
  bool sealed = false;          // false for rows queued by version 1
};

struct MailCounts {
  int64_t pending = 0;
  int64_t failed = 0;
  int64_t expired = 0;  // code mails never sent (their code died first), until pruned
};

// What Store::copy_into copied: the rows of each table, in the order copied
// (users first: the others name them), each count verified on both sides.
struct TableCount {
  std::string table;
  int64_t rows = 0;
};
struct CopyReport {
  // Non-empty: nothing was copied, and why (the target is not empty, the
  // source is not at this binary's schema version, ...): one line.
  std::string refused;
  std::vector<TableCount> tables;
};

enum class MailFilter { kAll, kPending, kFailed };
enum class UserFilter { kAll, kStaff };
// What setting a password does to the account's is_active flag.
enum class Activation { kUnchanged, kActivate };
// The is_active flag an admin sets (users activate|deactivate).
enum class Active { kNo, kYes };

class Store {
 public:
  // Opens the database at `path`, which migrate() created. Does not fail when
  // the file is missing: queries then answer Unavailable until it is back.
  static Result<std::unique_ptr<Store>> open(const std::string& path, int busy_timeout_ms);
  // Creates the database if needed and brings its schema to the current
  // version (PRAGMA user_version). Idempotent.
  static Status migrate(const std::string& path, int busy_timeout_ms);
  static int schema_version();
  // The version of the database at `path` (PRAGMA user_version), opened
  // read-only: nothing is created, migrated or locked (`check`).
  static Result<int64_t> schema_version_at(const std::string& path, int busy_timeout_ms);

  ~Store();

  // Runs `body` in one write transaction. Commits unless `body` returns a
  // storage failure (then rolls back); a business error (a 400 after a
  // counter was bumped) still commits. After a commit that queued mail, calls
  // the mail-queued hook (the worker wakes the mailer).
  Status write(const std::function<Status()>& body);
  void set_mail_queued_hook(std::function<void()> hook) { mail_hook_ = std::move(hook); }

  // Group commit. Between begin_group() and end_group(), every write() body
  // runs in a savepoint of one transaction (taken at the first write, writer
  // gate held throughout) that end_group() commits: requests served back to
  // back share one fsync. Their answers must wait for end_group(). A body's
  // storage failure undoes that body only; when the transaction itself is
  // lost (an I/O error, the file replaced, a failed commit) the group is
  // abandoned: none of its writes happened, later write()s in it return the
  // failure, and so does end_group(). The mail-queued hook runs after the
  // commit.
  void begin_group() { grouping_ = true; }
  bool group_has_writes() const { return group_open_; }
  Status end_group();

  // Detects a database file that was removed or replaced under us; reopens
  // (never inside a group's transaction: the group is abandoned instead).
  Status check_file();

  // Copies the WAL into the database and truncates it to zero bytes, so that
  // old frames (rows since changed or deleted) do not linger in it. Through
  // the writer gate. False when a reader kept it from finishing (try later).
  Result<bool> checkpoint();

  // --- users (store/users.cc)
  Result<std::optional<User>> user_by_id(int64_t id);
  Result<std::optional<User>> user_by_email_key(const std::string& key);
  Result<int64_t> insert_user(const NewUser& user);
  // The account goes: its row (codes and tokens with it) and its send
  // history, so that its email may register again at once. Call inside write().
  Status delete_user(const User& user);
  Status set_terms_accepted(int64_t id);
  // `client_ip`: the address that proved the email (API.md §3: the first
  // password may be set without the code only from there).
  Status mark_email_verified(int64_t id, int64_t now, const std::string& client_ip);
  Result<std::string> verified_ip(int64_t id);  // "" when unknown
  // Sets the password hash; Activation::kActivate also makes the account active.
  Status set_password(int64_t id, const std::string& hash, Activation activation);
  Status set_last_login(int64_t id, int64_t now);
  Status set_names(int64_t id, const std::string& first_name, const std::string& last_name);
  Status set_email(int64_t id, const std::string& email, const std::string& key);
  Status set_active(int64_t id, Active active);
  Status set_pin(int64_t id, const std::string& hash);  // also clears strikes, lock, window
  Status set_pin_strikes(int64_t id, int failures, int64_t locked_until);
  Status set_pin_reset_window(int64_t id, int64_t until);  // also clears strikes and lock
  // By id; `limit` < 0 means every user.
  Result<std::vector<User>> list_users(UserFilter filter, int64_t offset, int64_t limit);
  Result<int64_t> count_users(UserFilter filter);

  // --- one-time codes (store/codes.cc)
  Status put_code(const Code& code);  // replaces the live code of (user, purpose)
  Result<std::optional<Code>> code_for(int64_t user_id, const std::string& purpose);
  Status set_code_attempts(int64_t user_id, const std::string& purpose, int attempts);
  Status mark_code_used(int64_t user_id, const std::string& purpose, int64_t now);
  // Every code of the account: its address changed, and codes sent to the
  // old one must not act on the account any more.
  Status delete_user_codes(int64_t user_id);

  // Decoy codes: what an email with no code-eligible account "gets" when a
  // code is asked for it, so that guesses at it are counted and answered
  // exactly as guesses at a real code (API.md §2: no enumeration). Keyed by
  // (email key, purpose); Code::user_id is 0.
  Status put_code_decoy(const std::string& email_key, const Code& decoy);
  Result<std::optional<Code>> code_decoy_for(const std::string& email_key,
                                             const std::string& purpose);
  Status set_code_decoy_attempts(const std::string& email_key, const std::string& purpose,
                                 int attempts);
  Status prune_code_decoys(int64_t expired_before);
  // Whether `code` is still the live code of its (user, purpose): not
  // replaced, not used, not expired, fewer than `max_wrong_guesses` wrong
  // guesses (the API's limit, passed in: the store does not know it).
  Result<bool> code_is_live(const CodeRef& code, int64_t now, int max_wrong_guesses);

  // --- throttles (store/throttle.cc)
  Result<ThrottleWindow> throttle_window(const std::string& scope, const std::string& subject,
                                         int64_t since);
  // Records an event; returns its id (for remove_throttle_event).
  Result<int64_t> add_throttle_event(const std::string& scope, const std::string& subject,
                                     int64_t at);
  Status remove_throttle_event(int64_t id);
  // Forgets the code-send history of an email (released by deletion or change).
  Status clear_send_history(const std::string& subject);
  Status prune_throttle_events(int64_t before);

  // --- tokens (store/tokens.cc)
  Status insert_token(const Token& token);
  // The token and its (active or not) user in one indexed read: the hot path
  // of every authenticated request.
  Result<std::optional<std::pair<Token, User>>> token_with_user(const std::string& jti);
  // Marks a live refresh token rotated; false when it was no longer live.
  Result<bool> rotate_token(const std::string& jti, int64_t now);
  // Revocations. Each also takes from the tokens it covers their standing
  // as merely rotated (the reuse grace's condition): a token revoked any
  // other way never benefits from the grace. Earlier revocation times stay.
  // Each returns how many tokens it revoked that were live (for metrics/).
  // Each names the user: every revocation walks the index (user, family).
  Result<int64_t> revoke_family(int64_t user_id, const std::string& family,
                                int64_t now);                        // one session
  Result<int64_t> revoke_user_tokens(int64_t user_id, int64_t now);  // every session
  // Every token of the user's sessions but `keep_family`.
  Result<int64_t> revoke_other_families(int64_t user_id, const std::string& keep_family,
                                        int64_t now);
  // Deletes the tokens expired before `expired_before`, and the sessions
  // whose newest refresh token goes with them.
  Status prune_tokens(int64_t expired_before);

  // --- sessions (store/sessions.cc)
  // A session is live at `now` while its newest refresh token is neither
  // revoked nor expired.
  //
  // Records a use of session `s.id` (token/obtain/ or token/refresh/):
  // creates it, or gives it `s`'s newest refresh token, last use, address
  // and user agent (its creation time stays). Call inside write().
  Status touch_session(const Session& s);
  // The user's live sessions, most recently used first.
  Result<std::vector<Session>> live_sessions(int64_t user_id, int64_t now, int64_t offset,
                                             int64_t limit);
  Result<int64_t> count_live_sessions(int64_t user_id, int64_t now);
  // Session `id` when it is a live session of the user.
  Result<std::optional<Session>> live_session(int64_t user_id, const std::string& id, int64_t now);

  // --- mail outbox (store/outbox.cc)
  // Must run inside write(): the mail commits with the change it reports.
  Status enqueue_mail(const OutboxMail& mail, int64_t now);
  // Pending mail due by `now`: code mails first, then by due time.
  Result<std::vector<Mail>> due_mail(int64_t now, int limit);
  // due_mail(), claimed for one mailer until `lease_until`: their due time
  // moves there, so that no other mailer (of this node or of another on the
  // same PostgreSQL) takes them meanwhile. Recording the outcome (sent,
  // retry, failed, expired) ends the lease; a mailer that dies with rows in
  // hand leaves them due again when it ends. Call inside write().
  Result<std::vector<Mail>> claim_due_mail(int64_t now, int limit, int64_t lease_until);
  // A descriptor that becomes readable when another node queues mail
  // (PostgreSQL's LISTEN; -1 on SQLite, where the worker wakes the mailer
  // through its pipe), and the drain after it woke us. Asked again after
  // each reconnection: the descriptor may change.
  int mail_wake_fd();
  void consume_mail_wakes();
  Result<std::optional<Mail>> mail_by_id(int64_t id);
  Result<std::optional<int64_t>> next_mail_due();
  Status mark_mail_sent(int64_t id, int64_t now);
  Status mark_mail_retry(int64_t id, int attempts, int64_t next_attempt_at,
                         const std::string& error);
  Status mark_mail_failed(int64_t id, int attempts, const std::string& error);
  // A pending code mail whose code is no longer live: never sent; its body goes.
  Status mark_mail_expired(int64_t id);
  Result<MailCounts> mail_counts();
  Result<std::vector<Mail>> list_mail(MailFilter filter, int64_t limit);
  // Makes failed (or pending) mail due now; returns how many rows changed.
  // Sent and expired mail stay as they are.
  Result<int64_t> retry_mail(int64_t id, int64_t now);
  Result<int64_t> retry_all_failed_mail(int64_t now);
  // Deletes mail sent before `before`, and expired mail created before it.
  Status prune_done_mail(int64_t before);

  // --- backup (store/backup.cc)
  // Copies this database into `path`, an empty file the caller created (its
  // mode is kept), while others go on writing: SQLite's online backup in one
  // step, so one read snapshot (every commit before it, none after; a WAL
  // reader blocks no writer). The copy is then a single file (rollback
  // journal, not WAL) and compacted (VACUUM: freed pages keep nothing of
  // deleted rows).
  Status backup_into(const std::string& path);
  // PRAGMA integrity_check of the database at `path`, opened read-only:
  // "ok", or the first problem it reports.
  static Result<std::string> integrity_check(const std::string& path);

  // --- moving to PostgreSQL (store/copy.cc)
  // Copies every row of this SQLite database, which nothing else may be
  // writing (the service stopped), into the PostgreSQL database at `url`:
  // migrates its schema first, then, in ONE transaction under the writer
  // lock every node takes, checks that it holds no rows, inserts every
  // table in foreign-key order (ids, hashes, flags, revocations; the
  // outbox's sealed bytes as they are), moves the identity columns past the
  // copied ids (past every id SQLite ever gave a user: none is reused), and
  // compares the row counts of each table on both sides. All or nothing.
  // A refusal (CopyReport::refused) copies nothing; so does a failure.
  Result<CopyReport> copy_into(const std::string& url, int busy_timeout_ms);

 private:
  explicit Store(std::unique_ptr<Db> db);
  Status write_locked(const std::function<Status()>& body);
  Status prune_sessions(int64_t expired_before);  // before the tokens they name go
  Status write_in_group(const std::function<Status()>& body);
  Status commit();  // of a write or a group, announcing the mail it queued
  void abandon_group(const Status& why);

  std::unique_ptr<Db> db_;
  std::function<void()> mail_hook_;
  bool mail_queued_ = false;
  bool grouping_ = false;    // between begin_group() and end_group()
  bool group_open_ = false;  // the group's transaction is open, gate held
  Status group_failure_;     // why the group was abandoned
};

}  // namespace cpa::store
