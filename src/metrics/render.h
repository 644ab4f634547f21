// Render: the counters in Prometheus's text exposition format, version 0.0.4
// (Content-Type: text/plain; version=0.0.4), as metrics/ answers it.
//
// Every family has its # HELP and # TYPE lines. The families with a fixed
// label set (logins, codes, tokens, restarts...) show every label value,
// zero included, so that a query sees the series before the first event.
// Requests and latency show only the (route, method, status) and route
// series that have counted something: most combinations never happen.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "metrics/counters.h"

namespace cpa::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4";

// The outbox by state, read from the database at scrape time.
struct MailQueue {
  int64_t pending = 0;
  int64_t failed = 0;
  int64_t expired = 0;
};

struct Scrape {
  std::string_view version;                 // cryptopay_auth_build_info
  std::span<const std::string_view> routes;  // slot i's label; kUnknownRoute is "unknown"
  // nullopt when the database could not be read: the gauge is left out, and
  // cryptopay_auth_mail_queue_readable says so.
  std::optional<MailQueue> mail_queue;
};

std::string render(const Block& block, const Scrape& scrape);

// A label value as the format writes it: \ " and newline escaped.
std::string escape_label(std::string_view value);

}  // namespace cpa::metrics
