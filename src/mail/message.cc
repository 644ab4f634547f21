#include "mail/message.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string_view>

namespace cpa::mail {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
// RFC 2045 §6.7 (5): an encoded line is at most 76 characters, the soft
// line break's "=" included.
constexpr size_t kMaxQpLine = 76;

// A header value on one line: CR and LF (and the other C0 controls but TAB)
// are dropped, so a value can never start a header of its own.
std::string header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) continue;
    out.push_back(c);
  }
  return out;
}

bool is_ascii(std::string_view v) {
  for (char c : v)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Standard base64 with padding (OpenSSL's EVP_EncodeBlock), for encoded words.
std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// The subject is ASCII by contract; should a caller pass UTF-8 anyway, it is
// sent as RFC 2047 encoded words (each at most 75 characters, never splitting
// a UTF-8 sequence) folded onto continuation lines.
std::string subject_value(const std::string& subject) {
  if (is_ascii(subject)) return subject;
  constexpr size_t kMaxChunk = 45;  // 45 bytes -> 60 base64 chars + 12 of wrapper
  std::string out;
  size_t i = 0;
  while (i < subject.size()) {
    size_t end = std::min(subject.size(), i + kMaxChunk);
    // Back off to a UTF-8 sequence start (a byte that is not 10xxxxxx).
    while (end < subject.size() && end > i + 1 &&
           (static_cast<unsigned char>(subject[end]) & 0xC0) == 0x80)
      --end;
    if (!out.empty()) out.append("\r\n ");
    out.append("=?utf-8?B?").append(base64(std::string_view(subject).substr(i, end - i)));
    out.append("?=");
    i = end;
  }
  return out;
}

// The part after the last '@' of the sender, restricted to the characters of
// a host name; "localhost" when there is none.
std::string sender_domain(std::string_view from) {
  size_t at = from.rfind('@');
  std::string domain;
  if (at != std::string_view::npos) {
    for (char c : from.substr(at + 1)) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-')
        domain.push_back(c);
      else if (c == '>')
        break;
    }
  }
  return domain.empty() ? "localhost" : domain;
}

// RFC 5322 §3.3: "Tue, 24 Nov 2026 21:05:00 +0000". Built by hand, not with
// strftime, so that no locale can change the day and month names.
std::string rfc5322_date(int64_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[40];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
           tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
           tm.tm_sec);
  return buf;
}

// Appends one hard line (no line end in it) quoted-printable encoded, with
// soft line breaks, followed by CRLF.
void append_qp_line(std::string_view line, std::string* out) {
  size_t col = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    char token[3];
    size_t len;
    bool literal = (c >= 33 && c <= 126 && c != '=') ||
                   ((c == ' ' || c == '\t') && !last);  // trailing whitespace is encoded
    if (literal) {
      token[0] = static_cast<char>(c);
      len = 1;
    } else {
      token[0] = '=';
      token[1] = kHex[c >> 4];
      token[2] = kHex[c & 15];
      len = 3;
    }
    // The final token may end the line at column 76; any other needs room for
    // a soft break "=" after it.
    size_t limit = last ? kMaxQpLine : kMaxQpLine - 1;
    if (col + len > limit) {
      out->append("=\r\n");
      col = 0;
    }
    out->append(token, len);
    col += len;
  }
  out->append("\r\n");
}

}  // namespace

std::string format_rfc5322(const Message& m) {
  std::string out;
  out.reserve(512 + m.body.size() * 3 / 2);
  out.append("Date: ").append(rfc5322_date(m.created_at)).append("\r\n");
  out.append("From: ").append(header_value(m.from)).append("\r\n");
  out.append("To: ").append(header_value(m.to)).append("\r\n");
  out.append("Subject: ").append(subject_value(header_value(m.subject))).append("\r\n");
  out.append("Message-ID: <outbox-")
      .append(std::to_string(m.id))
      .append(".")
      .append(std::to_string(m.created_at))
      .append("@")
      .append(sender_domain(m.from))
      .append(">\r\n");
  out.append("MIME-Version: 1.0\r\n");
  out.append("Content-Type: text/plain; charset=utf-8\r\n");
  out.append("Content-Transfer-Encoding: quoted-printable\r\n");
  out.append("\r\n");

  // The body's '\n' (or "\r\n") line ends become CRLF hard breaks; a final
  // line end does not start another (empty) line. A lone CR is encoded.
  std::string_view body(m.body);
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    size_t end = nl == std::string_view::npos ? body.size() : nl;
    size_t content_end = end;
    if (nl != std::string_view::npos && content_end > start && body[content_end - 1] == '\r')
      --content_end;
    append_qp_line(body.substr(start, content_end - start), &out);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string_view envelope_address(std::string_view from) {
  const size_t open = from.rfind('<');
  if (open == std::string_view::npos || from.empty() || from.back() != '>') return from;
  return from.substr(open + 1, from.size() - open - 2);
}

}  // namespace cpa::mail
