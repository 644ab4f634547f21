// Queuing mail from a request: sealed under the outbox key, written to the
// outbox in the caller's transaction (API.md §8: the mail commits with the
// change it reports), the mailer woken after the commit. The one place a
// handler's mail meets the key.
#pragma once

#include <optional>
#include <string>

#include "api/context.h"
#include "mail/templates.h"

namespace cpa::api {

// `code`: the code the mail carries (a code mail: sent before notices, and
// only while that code is live). Must run inside write().
Status queue_mail(Call& call, const std::string& recipient, const mail::Text& text,
                  std::optional<store::CodeRef> code = std::nullopt);

}  // namespace cpa::api
