// Outbox rows at rest: a message's subject and body are sealed (auth/seal,
// AES-256-GCM under Keys::outbox) before they are queued, and opened by the
// mailer and `outbox list`. Each field is sealed with its name and the
// recipient as context, so a sealed body moved to another row or field does
// not open. Rows queued by version 1 are plain and open as they are.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/random.h"
#include "core/status.h"
#include "mail/templates.h"
#include "store/store.h"

namespace cpa::mail {

// `text` to `recipient`, sealed, ready for Store::enqueue_mail.
Result<store::OutboxMail> sealed_mail(std::string_view key, Rng& rng, std::string recipient,
                                      const Text& text);

// The subject and body as queued; nullopt when a sealed field does not open
// (another AUTH_SECRET_KEY, or the row was altered). An emptied body (sent or
// expired) opens as empty.
std::optional<Text> open_mail(std::string_view key, const store::Mail& mail);
// The subject alone, for listings.
std::optional<std::string> open_subject(std::string_view key, const store::Mail& mail);

}  // namespace cpa::mail
