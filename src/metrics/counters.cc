#include "metrics/counters.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <type_traits>

namespace cpa::metrics {
namespace {

// Shared between processes, the counters must not hide a lock in the
// process that made them, and must hold no pointer.
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<Block>);

constexpr auto kRelaxed = std::memory_order_relaxed;

template <size_t N>
std::optional<size_t> index_of(const std::string_view (&labels)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (labels[i] == name) return i;
  return std::nullopt;
}

}  // namespace

Method method_of(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "HEAD") return Method::kHead;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "PATCH") return Method::kPatch;
  if (m == "DELETE") return Method::kDelete;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;  // whatever a client sends: the label set stays bounded
}

std::string_view method_label(Method m) {
  static constexpr std::string_view kLabels[kMethods] = {"GET",   "HEAD",   "POST",    "PUT",
                                                         "PATCH", "DELETE", "OPTIONS", "other"};
  return kLabels[idx(m)];
}

size_t status_slot(int status) {
  for (size_t i = 0; i < std::size(kStatuses); ++i)
    if (kStatuses[i] == status) return i;
  const int hundreds = status / 100;
  const int class_slot = hundreds >= 1 && hundreds <= 5 ? hundreds - 1 : 4;  // nonsense: "5xx"
  return std::size(kStatuses) + static_cast<size_t>(class_slot);
}

std::string status_label(size_t slot) {
  if (slot < std::size(kStatuses)) return std::to_string(kStatuses[slot]);
  return std::to_string(slot - std::size(kStatuses) + 1) + "xx";
}

size_t bucket_slot(int64_t micros) {
  for (size_t i = 0; i < std::size(kBucketMicros); ++i)
    if (micros <= kBucketMicros[i]) return i;
  return std::size(kBucketMicros);  // +Inf
}

std::optional<Purpose> purpose_of(std::string_view name) {
  std::optional<size_t> i = index_of(kPurposeLabels, name);
  if (!i) return std::nullopt;
  return static_cast<Purpose>(*i);
}

void Tally::code_sent(std::string_view purpose) {
  if (std::optional<Purpose> p = purpose_of(purpose)) ++codes_sent[idx(*p)];
}

void Tally::code_checked(std::string_view purpose, CodeCheck r) {
  if (std::optional<Purpose> p = purpose_of(purpose)) ++code_checks[idx(*p)][idx(r)];
}

std::unique_ptr<Counters> Counters::create(std::string* error) {
  void* memory = mmap(nullptr, sizeof(Block), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
  if (memory == MAP_FAILED) {
    *error = std::string("cannot map the metrics counters: ") + strerror(errno);
    return nullptr;
  }
  // The mapping is zero-filled; constructing the atomics there makes them
  // objects (value-initialized: zero).
  return std::unique_ptr<Counters>(new Counters(new (memory) Block()));
}

Counters::~Counters() {
  block_->~Block();
  munmap(block_, sizeof(Block));
}

void Counters::count_request(size_t route, Method method, int status, int64_t micros) {
  if (route >= kRouteSlots) route = kUnknownRoute;
  if (micros < 0) micros = 0;
  block_->requests[route][idx(method)][status_slot(status)].fetch_add(1, kRelaxed);
  block_->latency[route][bucket_slot(micros)].fetch_add(1, kRelaxed);
  block_->latency_micros[route].fetch_add(static_cast<uint64_t>(micros), kRelaxed);
}

void Counters::add(const Tally& t) {
  // Most requests did none of these: only the non-zero ones touch the block.
  auto add_each = [](auto& counters, const auto& counts) {
    for (size_t i = 0; i < std::size(counts); ++i)
      if (counts[i] != 0) counters[i].fetch_add(counts[i], kRelaxed);
  };
  add_each(block_->logins, t.logins);
  add_each(block_->codes_sent, t.codes_sent);
  for (size_t p = 0; p < t.code_checks.size(); ++p)
    add_each(block_->code_checks[p], t.code_checks[p]);
  add_each(block_->tokens_issued, t.tokens_issued);
  add_each(block_->tokens_revoked, t.tokens_revoked);
  if (t.refresh_reuse != 0) block_->refresh_reuse.fetch_add(t.refresh_reuse, kRelaxed);
}

void Counters::count_mails_delivered(uint64_t n) {
  if (n != 0) block_->mails_delivered.fetch_add(n, kRelaxed);
}

void Counters::count_restart(Role role) { block_->restarts[idx(role)].fetch_add(1, kRelaxed); }

}  // namespace cpa::metrics
