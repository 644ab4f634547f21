#include "metrics/render.h"

#include <cinttypes>
#include <cstdio>

namespace cpa::metrics {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

uint64_t load(const Block::Counter& c) { return c.load(kRelaxed); }

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  // name{labels} value; `labels` already written as k="v",k="v" (or empty).
  void sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_.append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.append(" ").append(value).append("\n");
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + escape_label(value) + "\"";
}

// Seconds from microseconds, exactly: "0.012345".
std::string seconds(uint64_t micros) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, micros / 1000000, micros % 1000000);
  return buf;
}

// One counter family over one label whose every value is shown.
template <size_t N>
void labelled(Writer& w, std::string_view name, std::string_view help, std::string_view key,
              const std::string_view (&labels)[N], const Block::Counter (&counters)[N]) {
  w.family(name, "counter", help);
  for (size_t i = 0; i < N; ++i) w.sample(name, label(key, labels[i]), load(counters[i]));
}

std::string_view route_label(const Scrape& s, size_t slot) {
  return slot < s.routes.size() ? s.routes[slot] : std::string_view("unknown");
}

// The route slots in use, in route-table order, then "unknown".
template <typename F>
void each_route(const Scrape& s, F f) {
  for (size_t slot = 0; slot < s.routes.size() && slot < kMaxRoutes; ++slot) f(slot);
  f(kUnknownRoute);
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render(const Block& b, const Scrape& s) {
  Writer w;
  w.family("cryptopay_auth_build_info", "gauge", "The running version; always 1.");
  w.sample("cryptopay_auth_build_info", label("version", s.version), 1);

  w.family("cryptopay_auth_requests_total", "counter",
           "Requests the pool answered, by route pattern (\"unknown\": no route), method and "
           "status. nginx's own answers (its 413, 429, 502...) are not counted here.");
  each_route(s, [&](size_t route) {
    for (size_t m = 0; m < kMethods; ++m) {
      for (size_t st = 0; st < kStatusSlots; ++st) {
        const uint64_t n = load(b.requests[route][m][st]);
        if (n == 0) continue;
        w.sample("cryptopay_auth_requests_total",
                 label("route", route_label(s, route)) + "," +
                     label("method", method_label(static_cast<Method>(m))) + "," +
                     label("status", status_label(st)),
                 n);
      }
    }
  });

  constexpr std::string_view kDuration = "cryptopay_auth_request_duration_seconds";
  w.family(kDuration, "histogram",
           "Time from accepting a request to answering it, by route pattern.");
  each_route(s, [&](size_t route) {
    uint64_t count = 0;
    for (const Block::Counter& c : b.latency[route]) count += load(c);
    if (count == 0) return;
    const std::string route_text = label("route", route_label(s, route));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBucketSlots; ++i) {
      cumulative += load(b.latency[route][i]);
      const std::string_view le = i < std::size(kBucketLabels) ? kBucketLabels[i] : "+Inf";
      w.sample(std::string(kDuration) + "_bucket", route_text + "," + label("le", le),
               cumulative);
    }
    w.sample(std::string(kDuration) + "_sum", route_text, seconds(load(b.latency_micros[route])));
    w.sample(std::string(kDuration) + "_count", route_text, cumulative);
  });

  labelled(w, "cryptopay_auth_logins_total",
           "token/obtain/ attempts that got as far as the password: right, wrong (or no such "
           "active account), or refused by the login failure limit.",
           "result", kLoginLabels, b.logins);
  labelled(w, "cryptopay_auth_codes_sent_total",
           "One-time codes issued and queued to a mailbox, by purpose.", "purpose",
           kPurposeLabels, b.codes_sent);

  w.family("cryptopay_auth_code_checks_total", "counter",
           "Guesses at one-time codes, by purpose and result: ok, wrong (counted against the "
           "code), too_many (the code is burnt), invalid (no live code).");
  for (size_t p = 0; p < std::size(kPurposeLabels); ++p) {
    for (size_t r = 0; r < std::size(kCodeCheckLabels); ++r) {
      w.sample("cryptopay_auth_code_checks_total",
               label("purpose", kPurposeLabels[p]) + "," + label("result", kCodeCheckLabels[r]),
               load(b.code_checks[p][r]));
    }
  }

  labelled(w, "cryptopay_auth_tokens_issued_total", "JWTs issued, by type.", "type",
           kTokenTypeLabels, b.tokens_issued);
  labelled(w, "cryptopay_auth_tokens_revoked_total",
           "JWTs revoked while live, by why: rotation (token/refresh/), logout, reuse (a rotated "
           "refresh token presented again), session_end (sessions/), password_change.",
           "reason", kRevocationLabels, b.tokens_revoked);

  w.family("cryptopay_auth_refresh_reuse_detected_total", "counter",
           "Rotated refresh tokens presented again outside the reuse grace: each revoked its "
           "session.");
  w.sample("cryptopay_auth_refresh_reuse_detected_total", "", load(b.refresh_reuse));

  w.family("cryptopay_auth_mails_delivered_total", "counter",
           "Messages the relay (or the file backend) accepted.");
  w.sample("cryptopay_auth_mails_delivered_total", "", load(b.mails_delivered));

  w.family("cryptopay_auth_mail_queue_readable", "gauge",
           "1 when this scrape could read the outbox, else 0 (and no mail_queue_messages).");
  w.sample("cryptopay_auth_mail_queue_readable", "", s.mail_queue ? 1 : 0);
  w.family("cryptopay_auth_mail_queue_messages", "gauge",
           "Outbox rows by state, at scrape time: pending (to send or retry), failed (given up), "
           "expired (code mails whose code died first; pruned after 7 days).");
  if (s.mail_queue) {
    w.sample("cryptopay_auth_mail_queue_messages", label("state", "pending"),
             std::to_string(s.mail_queue->pending));
    w.sample("cryptopay_auth_mail_queue_messages", label("state", "failed"),
             std::to_string(s.mail_queue->failed));
    w.sample("cryptopay_auth_mail_queue_messages", label("state", "expired"),
             std::to_string(s.mail_queue->expired));
  }

  labelled(w, "cryptopay_auth_worker_restarts_total",
           "Children the master restarted after they died unasked, by role.", "role",
           kRoleLabels, b.restarts);
  return w.take();
}

}  // namespace cpa::metrics
