// Delivery backends for the outbox: `file` (one .eml per message, written
// atomically into AUTH_MAIL_DIR) and `smtp` (libcurl; smtp:// with STARTTLS,
// required or opportunistic, smtps://, optional AUTH).
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "mail/message.h"

namespace cpa::mail {

struct Delivery {
  enum class Outcome {
    kSent,
    kRetry,      // transient: relay down, 4xx, timeout
    kPermanent,  // the relay refused this message for good (5xx)
  };
  Outcome outcome = Outcome::kSent;
  std::string error;  // for the log and the outbox row; never the body
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Called from one sender thread at a time (each sender has its own backend).
  virtual Delivery deliver(const Message& message) = 0;
};

// The backend config.mail_backend names. Never null: a backend that cannot
// work (say, libcurl fails to start) reports kRetry from deliver().
std::unique_ptr<Backend> make_backend(const Config& config);

// The two backends, for make_backend and tests.
// file: `<dir>/<created_at>-<id>.eml`, written to a temp name, fsynced,
// renamed and the directory fsynced; `dir` is created (0750) when missing.
// Redelivering a message rewrites the same file.
std::unique_ptr<Backend> make_file_backend(std::string dir);
// smtp: one libcurl handle, reused (and its connection kept) across deliveries.
std::unique_ptr<Backend> make_smtp_backend(const Config& config);

// Whether the SMTP backend insists on TLS (smtp:// then fails unless STARTTLS
// succeeds). Always for smtps:// and when a relay login is set: a password
// never crosses the network in clear because STARTTLS was stripped. Else
// AUTH_SMTP_TLS, which by default is required unless the relay is on this
// host (localhost, 127.0.0.0/8, ::1), where there is no network to protect.
bool smtp_tls_required(const Config& config);

}  // namespace cpa::mail
