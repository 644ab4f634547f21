// The relay check of `cryptopay-auth check --smtp`: connects to
// AUTH_SMTP_URL as the SMTP backend would (TLS as smtp_tls_required() says,
// its login when one is set) and goes as far as the greeting, EHLO and AUTH;
// no mail is sent.
#pragma once

#include <string>

#include "core/config.h"
#include "core/status.h"

namespace cpa::mail {

// OK when the relay took us that far; otherwise a one-line reason (curl's
// description and the relay's reply code), never the password.
Status probe_smtp_relay(const Config& config);

}  // namespace cpa::mail
