#include "mail/templates.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cpa::mail {
namespace {

bool ascii_only(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80 || (c < 0x20 && c != '\n')) return false;
  return true;
}

bool has_line(const std::string& body, const std::string& line) {
  return ("\n" + body).find("\n" + line + "\n") != std::string::npos;
}

TEST(Templates, CodeMailSubjects) {
  EXPECT_EQ(code_mail(Purpose::kEmailVerification, "123456", 600).subject, "Confirm your email address");
  EXPECT_EQ(code_mail(Purpose::kPasswordRecovery, "123456", 600).subject, "Your password recovery code");
  EXPECT_EQ(code_mail(Purpose::kPinReset, "123456", 600).subject, "Your PIN reset code");
  EXPECT_EQ(code_mail(Purpose::kEmailChange, "123456", 600).subject, "Confirm your new email address");
}

TEST(Templates, CodeMailBody) {
  std::set<std::string> subjects;
  for (Purpose purpose : kAllPurposes) {
    Text t = code_mail(purpose, "482913", 600);
    subjects.insert(t.subject);  // each purpose has its own wording
    EXPECT_TRUE(has_line(t.body, "482913")) << purpose_name(purpose) << "\n" << t.body;
    EXPECT_NE(t.body.find("expires in 10 minutes"), std::string::npos) << t.body;
    EXPECT_NE(t.body.find("Do not share it"), std::string::npos) << t.body;
    EXPECT_TRUE(has_line(t.body, "CryptoPay")) << t.body;
    EXPECT_TRUE(ascii_only(t.subject) && ascii_only(t.body)) << purpose_name(purpose);
    EXPECT_FALSE(t.subject.empty());
  }
  EXPECT_EQ(subjects.size(), std::size(kAllPurposes));
}

TEST(Templates, CodeMailMinutes) {
  EXPECT_NE(code_mail(Purpose::kPinReset, "1", 60).body.find("expires in 1 minute "), std::string::npos);
  EXPECT_NE(code_mail(Purpose::kPinReset, "1", 30).body.find("expires in 1 minute "), std::string::npos);
  EXPECT_NE(code_mail(Purpose::kPinReset, "1", 0).body.find("expires in 1 minute "), std::string::npos);
  EXPECT_NE(code_mail(Purpose::kPinReset, "1", 179).body.find("expires in 2 minutes"), std::string::npos);
  EXPECT_NE(code_mail(Purpose::kPinReset, "1", 3600).body.find("expires in 60 minutes"),
            std::string::npos);
}

TEST(Templates, Notices) {
  Text pw = password_changed_notice();
  EXPECT_EQ(pw.subject, "Your password was changed");
  EXPECT_TRUE(ascii_only(pw.body));
  EXPECT_TRUE(has_line(pw.body, "CryptoPay"));

  Text em = email_changed_notice("new.address@example.org");
  EXPECT_EQ(em.subject, "Your email address was changed");
  EXPECT_NE(em.body.find("new.address@example.org"), std::string::npos);
  EXPECT_TRUE(ascii_only(em.body));
  EXPECT_TRUE(has_line(em.body, "CryptoPay"));
}

}  // namespace
}  // namespace cpa::mail
