// An outgoing email and its RFC 5322 form.
#pragma once

#include <cstdint>
#include <string>

namespace cpa::mail {

struct Message {
  int64_t id = 0;          // outbox row id: makes the Message-ID stable across retries
  std::string from;  // "addr" or "Name <addr>" (AUTH_MAIL_FROM)
  std::string to;
  std::string subject;     // ASCII
  std::string body;        // plain text, UTF-8, '\n' line ends
  int64_t created_at = 0;  // Unix seconds: the Date header
};

// The message as sent: CRLF line ends; Date, From, To, Subject, Message-ID
// (<outbox-<id>.<created_at>@<sender domain>>), MIME-Version, Content-Type
// text/plain; charset=utf-8, Content-Transfer-Encoding: quoted-printable.
// Header values are stripped of CR/LF so no header can be injected.
std::string format_rfc5322(const Message& m);

// The address of a From value, for the SMTP envelope: what is inside the
// last "<...>" of "Name <addr>", else the whole value.
std::string_view envelope_address(std::string_view from);

}  // namespace cpa::mail
