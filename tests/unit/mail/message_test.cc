#include "mail/message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpa::mail {
namespace {

Message sample() {
  Message m;
  m.id = 42;
  m.from = "no-reply@cryptopay.example";
  m.to = "Alice@example.com";
  m.subject = "Confirm your email address";
  m.body = "Hello,\n\n123456\n";
  m.created_at = 1795000000;  // 2026-11-18T11:06:40Z, a Wednesday
  return m;
}

// Header block and body of a formatted message.
struct Parts {
  std::vector<std::string> headers;
  std::string body;
};

Parts split(const std::string& text) {
  Parts p;
  size_t end = text.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos);
  size_t pos = 0;
  while (pos < end) {
    size_t eol = text.find("\r\n", pos);
    p.headers.push_back(text.substr(pos, eol - pos));
    pos = eol + 2;
  }
  p.body = text.substr(end + 4);
  return p;
}

std::vector<std::string> body_lines(const std::string& body) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    EXPECT_NE(eol, std::string::npos) << "body does not end with CRLF";
    if (eol == std::string::npos) break;
    lines.push_back(body.substr(pos, eol - pos));
    pos = eol + 2;
  }
  return lines;
}

// Decodes quoted-printable, for round trips.
std::string qp_decode(const std::string& body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '=') {
      out.push_back(body[i]);
      continue;
    }
    if (body.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;  // soft break
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(body.substr(i + 1, 2), nullptr, 16)));
    i += 2;
  }
  // Hard breaks back to '\n'.
  std::string plain;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r' && i + 1 < out.size() && out[i + 1] == '\n') continue;
    plain.push_back(out[i]);
  }
  return plain;
}

TEST(Message, HasTheHeadersInOrder) {
  Parts p = split(format_rfc5322(sample()));
  std::vector<std::string> want = {
      "Date: Wed, 18 Nov 2026 11:06:40 +0000",
      "From: no-reply@cryptopay.example",
      "To: Alice@example.com",
      "Subject: Confirm your email address",
      "Message-ID: <outbox-42.1795000000@cryptopay.example>",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
  };
  EXPECT_EQ(p.headers, want);
}

TEST(Message, EveryLineEndsWithCrlf) {
  Message m = sample();
  m.body = "one\ntwo\r\nthree\n\nfour";
  std::string text = format_rfc5322(m);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(text[i - 1], '\r') << "bare LF at " << i;
    }
    if (text[i] == '\r') {
      ASSERT_LT(i + 1, text.size());
      EXPECT_EQ(text[i + 1], '\n') << "bare CR at " << i;
    }
  }
  EXPECT_EQ(split(text).body, "one\r\ntwo\r\nthree\r\n\r\nfour\r\n");
}

TEST(Message, BodyIsQuotedPrintable) {
  Message m = sample();
  m.body = "a=b\nCaf\xc3\xa9 \xe2\x82\xac\ntrailing space \nand tab\t\n.\nplain line\n";
  Parts p = split(format_rfc5322(m));
  std::vector<std::string> want = {
      "a=3Db", "Caf=C3=A9 =E2=82=AC", "trailing space=20", "and tab=09", ".", "plain line",
  };
  EXPECT_EQ(body_lines(p.body), want);
  EXPECT_EQ(qp_decode(p.body), m.body);
}

TEST(Message, LongLinesGetSoftBreaksWithinSeventySixColumns) {
  Message m = sample();
  std::string long_line(200, 'x');
  // An escape near the wrap column must not be split.
  std::string tricky = std::string(74, 'y') + "\xc3\xa9" + std::string(10, 'z');
  std::string exact(76, 'w');  // fits as is: no soft break needed
  m.body = long_line + "\n" + tricky + "\n" + exact + "\n";
  Parts p = split(format_rfc5322(m));
  std::vector<std::string> lines = body_lines(p.body);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 76u) << line;
  // 200 x's: 75 + '=' per soft-broken line.
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], std::string(75, 'x') + "=");
  EXPECT_EQ(lines[1], std::string(75, 'x') + "=");
  EXPECT_EQ(lines[2], std::string(50, 'x'));
  EXPECT_EQ(lines[3], std::string(74, 'y') + "=");
  EXPECT_EQ(lines[4], "=C3=A9" + std::string(10, 'z'));
  EXPECT_EQ(lines[5], exact);
  EXPECT_EQ(lines.size(), 6u);
  EXPECT_EQ(qp_decode(p.body), m.body);
}

TEST(Message, TrailingSpaceBeforeSoftBreakIsKeptAndDecodes) {
  Message m = sample();
  m.body = std::string(74, 'a') + "  b \n";
  Parts p = split(format_rfc5322(m));
  for (const std::string& line : body_lines(p.body)) {
    EXPECT_LE(line.size(), 76u);
    ASSERT_FALSE(line.empty());
    EXPECT_NE(line.back(), ' ');
    EXPECT_NE(line.back(), '\t');
  }
  EXPECT_EQ(qp_decode(p.body), m.body);
}

TEST(Message, HeaderInjectionIsStripped) {
  Message m = sample();
  m.subject = "Hello\r\nBcc: victim@example.org";
  m.to = "alice@example.com\nX-Evil: 1";
  m.from = "no-reply@cryptopay.example\r\n";
  Parts p = split(format_rfc5322(m));
  for (const std::string& h : p.headers) {
    EXPECT_EQ(h.rfind("Bcc:", 0), std::string::npos) << h;
    EXPECT_EQ(h.rfind("X-Evil:", 0), std::string::npos) << h;
    EXPECT_EQ(h.find('\n'), std::string::npos);
    EXPECT_EQ(h.find('\r'), std::string::npos);
  }
  EXPECT_EQ(p.headers[1], "From: no-reply@cryptopay.example");
  EXPECT_EQ(p.headers[2], "To: alice@example.comX-Evil: 1");
  EXPECT_EQ(p.headers[3], "Subject: HelloBcc: victim@example.org");
  EXPECT_EQ(p.headers.size(), 8u);
}

TEST(Message, MessageIdUsesIdCreatedAtAndSenderDomain) {
  Message m = sample();
  m.id = 7;
  m.created_at = 1700000000;
  m.from = "mailer@Mail.Example.NET";
  Parts p = split(format_rfc5322(m));
  EXPECT_EQ(p.headers[4], "Message-ID: <outbox-7.1700000000@Mail.Example.NET>");
  // Stable across retries: the same row formats to the same bytes.
  EXPECT_EQ(format_rfc5322(m), format_rfc5322(m));

  m.from = "nobody";
  EXPECT_EQ(split(format_rfc5322(m)).headers[4], "Message-ID: <outbox-7.1700000000@localhost>");
}

TEST(Message, NonAsciiSubjectIsEncodedAsWords) {
  Message m = sample();
  m.subject = "Caf\xc3\xa9";
  Parts p = split(format_rfc5322(m));
  EXPECT_EQ(p.headers[3], "Subject: =?utf-8?B?Q2Fmw6k=?=");
}

TEST(Message, EmptyBodyHasOnlyTheHeaders) {
  Message m = sample();
  m.body.clear();
  std::string text = format_rfc5322(m);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n");
  EXPECT_TRUE(split(text).body.empty());
}

// AUTH_MAIL_FROM may be "Name <addr>": the header keeps it, the SMTP
// envelope takes the address.
TEST(EnvelopeAddress, TheAddressInsideTheAngleBrackets) {
  EXPECT_EQ(envelope_address("no-reply@example.com"), "no-reply@example.com");
  EXPECT_EQ(envelope_address("CryptoPay <no-reply@example.com>"), "no-reply@example.com");
  EXPECT_EQ(envelope_address("\"Pay <Team>\" <team@example.com>"), "team@example.com");
  EXPECT_EQ(envelope_address("broken <a@b"), "broken <a@b");
  EXPECT_EQ(envelope_address(""), "");
}

}  // namespace
}  // namespace cpa::mail
