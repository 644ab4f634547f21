// Counters: what metrics/ reports (API.md §8), summed over every process of
// the service.
//
// One Block of relaxed atomics in shared memory (a memfd, mapped MAP_SHARED),
// made by the master before it forks: every worker, hasher and the mailer
// inherit the same mapping, add to it, and any worker can read the whole sum
// for a scrape. This block is the one piece of mutable state the processes
// share beside the database; it is not a global: the master owns it and
// hands a reference down (Services::counters). It lives as long as the
// master, so counts survive worker restarts and reloads. An upgrade in place
// (SIGUSR2, proc/upgrade.h) hands the memfd to the new binary, which maps the
// same block again when its layout is the same (adopt()): the old workers
// still draining and the new ones then add to one block. A binary whose
// series differ starts a new block at zero, as Prometheus counters may.
//
// Everything is a fixed-size array indexed by small enums and by the route's
// place in the route table: counting is a few relaxed atomic adds, with no
// allocation, lock or lookup. A scrape reads each counter once (relaxed):
// the sum of counters read while requests run is not one instant, which
// Prometheus does not need.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cpa::metrics {

// Route patterns the block has room for (api/routes.cc asserts the table
// fits), and the slot for requests that match no route ("unknown").
inline constexpr size_t kMaxRoutes = 48;
inline constexpr size_t kUnknownRoute = kMaxRoutes;
inline constexpr size_t kRouteSlots = kMaxRoutes + 1;

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
inline constexpr size_t kMethods = 8;
Method method_of(std::string_view method);
std::string_view method_label(Method m);

// The statuses the pool answers, each its own slot; any other by its class
// ("1xx" ... "5xx"), so that the label set stays bounded.
inline constexpr int kStatuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                                    413, 415, 429, 500, 502, 503, 504};
inline constexpr size_t kStatusSlots = std::size(kStatuses) + 5;
size_t status_slot(int status);
std::string status_label(size_t slot);

// Request latency buckets (upper bounds, inclusive, in microseconds), and
// their labels in seconds. The last slot of a histogram is +Inf.
inline constexpr int64_t kBucketMicros[] = {1000,   2500,   5000,    10000,   25000,   50000,
                                            100000, 250000, 500000, 1000000, 2500000, 5000000};
inline constexpr std::string_view kBucketLabels[] = {"0.001", "0.0025", "0.005", "0.01",
                                                     "0.025", "0.05",   "0.1",   "0.25",
                                                     "0.5",   "1",      "2.5",   "5"};
inline constexpr size_t kBucketSlots = std::size(kBucketMicros) + 1;
size_t bucket_slot(int64_t micros);

enum class Login : uint8_t { kSuccess, kFailure, kThrottled };
inline constexpr std::string_view kLoginLabels[] = {"success", "failure", "throttled"};

enum class Purpose : uint8_t { kEmailVerification, kPasswordRecovery, kPinReset, kEmailChange };
inline constexpr std::string_view kPurposeLabels[] = {"email_verification", "password_recovery",
                                                      "pin_reset", "email_change"};
// The API's purpose name ("pin_reset"); nullopt for any other text.
std::optional<Purpose> purpose_of(std::string_view name);

// A guess at a one-time code: the live code; a wrong guess (counted); one at
// a code already burnt by wrong guesses; one at no live code at all
// (expired, used, replaced, never sent).
enum class CodeCheck : uint8_t { kOk, kWrong, kTooMany, kInvalid };
inline constexpr std::string_view kCodeCheckLabels[] = {"ok", "wrong", "too_many", "invalid"};

enum class TokenType : uint8_t { kAccess, kRefresh };
inline constexpr std::string_view kTokenTypeLabels[] = {"access", "refresh"};

// Why tokens were revoked: a refresh token rotated by token/refresh/;
// token/blacklist/ (the session's every token); a rotated refresh token
// presented again (its session's every token); sessions/ ended by their
// owner; a password changed or reset (every token of the account).
enum class Revocation : uint8_t { kRotation, kLogout, kReuse, kSessionEnd, kPasswordChange };
inline constexpr std::string_view kRevocationLabels[] = {"rotation", "logout", "reuse",
                                                         "session_end", "password_change"};

// The master's children, as it restarts them.
enum class Role : uint8_t { kWorker, kHasher, kMailer, kNginx };
inline constexpr std::string_view kRoleLabels[] = {"worker", "hasher", "mailer", "nginx"};

template <typename E>
constexpr size_t idx(E e) {
  return static_cast<size_t>(e);
}

// What one request did, counted as it happens (in the request's own memory)
// and added to the block only once the request is answered with what it
// did: a request answered 5xx (its writes rolled back, or its group commit
// lost) adds nothing.
struct Tally {
  std::array<uint32_t, std::size(kLoginLabels)> logins{};
  std::array<uint32_t, std::size(kPurposeLabels)> codes_sent{};
  std::array<std::array<uint32_t, std::size(kCodeCheckLabels)>, std::size(kPurposeLabels)>
      code_checks{};
  std::array<uint32_t, std::size(kTokenTypeLabels)> tokens_issued{};
  std::array<uint64_t, std::size(kRevocationLabels)> tokens_revoked{};
  uint32_t refresh_reuse = 0;

  void login(Login r) { ++logins[idx(r)]; }
  void code_sent(std::string_view purpose);
  void code_checked(std::string_view purpose, CodeCheck r);
  void token_issued(TokenType t) { ++tokens_issued[idx(t)]; }
  void tokens_revoked_by(Revocation why, uint64_t count) { tokens_revoked[idx(why)] += count; }
  void refresh_reused() { ++refresh_reuse; }
};

// The shared block. Atomics of 64 bits are lock-free and address-free on
// the platforms we build for (asserted in counters.cc), so they work across
// processes in shared memory.
struct Block {
  using Counter = std::atomic<uint64_t>;
  Counter requests[kRouteSlots][kMethods][kStatusSlots];
  Counter latency[kRouteSlots][kBucketSlots];  // per bucket (not cumulative)
  Counter latency_micros[kRouteSlots];         // the histogram's sum
  Counter logins[std::size(kLoginLabels)];
  Counter codes_sent[std::size(kPurposeLabels)];
  Counter code_checks[std::size(kPurposeLabels)][std::size(kCodeCheckLabels)];
  Counter tokens_issued[std::size(kTokenTypeLabels)];
  Counter tokens_revoked[std::size(kRevocationLabels)];
  Counter refresh_reuse;
  Counter mails_delivered;
  Counter restarts[std::size(kRoleLabels)];
};

class Counters {
 public:
  // A zeroed block in a memfd mapped MAP_SHARED: made before fork(), every
  // child adds to the same counters. `layout` names what the slots mean
  // beyond this header (the master passes the route table's listing: a
  // route's slot is its place there); adopt() compares it. nullptr, and
  // *error says why, when the kernel refuses the memory.
  static std::unique_ptr<Counters> create(std::string* error, std::string_view layout = {});
  // The block another process made, by its memfd (inherited across exec):
  // mapped again only when it was made for the same layout by a binary with
  // the same Block, else nullptr and *error says why. Takes `fd` in any case.
  static std::unique_ptr<Counters> adopt(int fd, std::string* error, std::string_view layout = {});
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  // One request answered: `route` is its slot (api::metrics_route_slot),
  // `micros` from its acceptance to its answer. Three relaxed adds.
  void count_request(size_t route, Method method, int status, int64_t micros);
  void add(const Tally& tally);
  void count_mails_delivered(uint64_t n);
  void count_restart(Role role);

  // For rendering: read each counter with a relaxed load.
  const Block& block() const { return *block_; }

  // The memfd behind the block (close-on-exec): what an upgrade hands over.
  int fd() const { return fd_; }

 private:
  struct Shared;  // the mapping: a header naming the layout, then the Block
  Counters(Shared* shared, int fd);
  Shared* shared_;
  Block* block_;
  int fd_;
};

}  // namespace cpa::metrics
