#include "mail/outbox_seal.h"

#include "auth/seal.h"

namespace cpa::mail {
namespace {

// What a field is sealed with: its name and the recipient (the AAD).
std::string context(std::string_view field, std::string_view recipient) {
  std::string aad = "outbox/";
  aad.append(field).push_back('\0');
  aad.append(recipient);
  return aad;
}

std::optional<std::string> open_field(std::string_view key, const store::Mail& mail,
                                      std::string_view field, const std::string& stored) {
  if (!mail.sealed) return stored;
  // A delivered or expired row keeps no body: nothing to open.
  if (stored.empty()) return std::string();
  return auth::open_sealed(key, stored, context(field, mail.recipient));
}

}  // namespace

Result<store::OutboxMail> sealed_mail(std::string_view key, Rng& rng, std::string recipient,
                                      const Text& text) {
  store::OutboxMail out;
  CPA_ASSIGN_OR_RETURN(out.subject,
                       auth::seal(key, text.subject, context("subject", recipient), rng));
  CPA_ASSIGN_OR_RETURN(out.body, auth::seal(key, text.body, context("body", recipient), rng));
  out.recipient = std::move(recipient);
  out.sealed = true;
  return out;
}

std::optional<Text> open_mail(std::string_view key, const store::Mail& mail) {
  std::optional<std::string> subject = open_field(key, mail, "subject", mail.subject);
  std::optional<std::string> body = open_field(key, mail, "body", mail.body);
  if (!subject || !body) return std::nullopt;
  return Text{std::move(*subject), std::move(*body)};
}

std::optional<std::string> open_subject(std::string_view key, const store::Mail& mail) {
  return open_field(key, mail, "subject", mail.subject);
}

}  // namespace cpa::mail
