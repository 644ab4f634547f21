#include "metrics/counters.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

// What the slots of a block mean: its size, every label table that indexes
// it, and the caller's `layout` (the route table), hashed (FNV-1a). Two
// binaries that agree on it may add to one block.
struct Counters::Shared {
  static constexpr uint64_t kMagic = 0x6370612d6d657472;  // "cpa-metr"
  uint64_t magic;
  uint64_t layout;
  Block block;
};

namespace {

uint64_t layout_hash(std::string_view layout) {
  std::string text = std::to_string(sizeof(Block)) + "\n";
  for (int status : kStatuses) text += std::to_string(status) + " ";
  for (int64_t bucket : kBucketMicros) text += std::to_string(bucket) + " ";
  auto add = [&text](const auto& labels) {
    text += "\n";
    for (std::string_view label : labels) text.append(label).append(" ");
  };
  add(kLoginLabels);
  add(kPurposeLabels);
  add(kCodeCheckLabels);
  add(kTokenTypeLabels);
  add(kRevocationLabels);
  add(kRoleLabels);
  text.append("\n").append(layout);
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

Counters::Counters(Shared* shared, int fd) : shared_(shared), block_(&shared->block), fd_(fd) {}

std::unique_ptr<Counters> Counters::create(std::string* error, std::string_view layout) {
  // A memfd rather than anonymous memory: its descriptor survives an exec,
  // so the binary an upgrade starts can map the same counters.
  int fd = memfd_create("cryptopay-auth-metrics", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, sizeof(Shared)) != 0) {
    *error = std::string("cannot make the metrics counters: ") + strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  void* memory = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    *error = std::string("cannot map the metrics counters: ") + strerror(errno);
    close(fd);
    return nullptr;
  }
  // The memory is zero-filled; constructing the atomics there makes them
  // objects (value-initialized: zero).
  Shared* shared = static_cast<Shared*>(memory);
  shared->layout = layout_hash(layout);
  shared->magic = Shared::kMagic;
  new (&shared->block) Block();
  return std::unique_ptr<Counters>(new Counters(shared, fd));
}

std::unique_ptr<Counters> Counters::adopt(int fd, std::string* error, std::string_view layout) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size != static_cast<off_t>(sizeof(Shared))) {
    *error = "the inherited metrics counters are another size (another binary's series)";
    close(fd);
    return nullptr;
  }
  void* memory = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    *error = std::string("cannot map the inherited metrics counters: ") + strerror(errno);
    close(fd);
    return nullptr;
  }
  Shared* shared = static_cast<Shared*>(memory);
  if (shared->magic != Shared::kMagic || shared->layout != layout_hash(layout)) {
    *error = "the inherited metrics counters count other series (routes, statuses or labels "
             "changed)";
    munmap(memory, sizeof(Shared));
    close(fd);
    return nullptr;
  }
  // The Block's atomics were constructed by the process that made it and
  // live in this shared memory: they are objects already.
  return std::unique_ptr<Counters>(new Counters(shared, fd));
}

Counters::~Counters() {
  munmap(shared_, sizeof(Shared));
  close(fd_);
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
