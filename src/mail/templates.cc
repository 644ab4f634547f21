#include "mail/templates.h"

#include <algorithm>
#include <string>

namespace cpa::mail {
namespace {

struct CodeWording {
  Purpose purpose;
  const char* subject;
  const char* intro;   // "Use this code to ..."
  const char* ignore;  // what to do when the reader asked for nothing
};

constexpr CodeWording kCodeWordings[] = {
    {Purpose::kEmailVerification, "Confirm your email address",
     "Use this code to confirm your email address for your CryptoPay account:",
     "If you did not create a CryptoPay account, you can ignore this email."},
    {Purpose::kPasswordRecovery, "Your password recovery code",
     "Use this code to recover your CryptoPay account and choose a new password:",
     "If you did not ask to recover your account, you can ignore this email;\n"
     "your password stays as it is."},
    {Purpose::kPinReset, "Your PIN reset code",
     "Use this code to reset the PIN of your CryptoPay account:",
     "If you did not ask to reset your PIN, you can ignore this email;\n"
     "your PIN stays as it is."},
    {Purpose::kEmailChange, "Confirm your new email address",
     "Use this code to confirm this address as the new email address of your\n"
     "CryptoPay account:",
     "If you did not ask to change your email address, you can ignore this email;\n"
     "your account keeps its current address."},
};

const CodeWording& wording_for(Purpose purpose) {
  for (const CodeWording& w : kCodeWordings)
    if (w.purpose == purpose) return w;
  return kCodeWordings[0];  // unreachable: every purpose has its wording (templates_test)
}

constexpr const char* kSignature = "\nCryptoPay\n";

}  // namespace

Text code_mail(Purpose purpose, std::string_view code, int64_t ttl_seconds) {
  const CodeWording& w = wording_for(purpose);
  int64_t minutes = std::max<int64_t>(1, ttl_seconds / 60);
  Text t;
  t.subject = w.subject;
  t.body.append("Hello,\n\n");
  t.body.append(w.intro).append("\n\n");
  t.body.append(code).append("\n\n");
  t.body.append("The code expires in ")
      .append(std::to_string(minutes))
      .append(minutes == 1 ? " minute" : " minutes")
      .append(" and can be used once.\n");
  t.body.append("Do not share it with anyone: CryptoPay staff will never ask you for it.\n\n");
  t.body.append(w.ignore).append("\n");
  t.body.append(kSignature);
  return t;
}

Text password_changed_notice() {
  Text t;
  t.subject = "Your password was changed";
  t.body =
      "Hello,\n\n"
      "The password of your CryptoPay account was just changed.\n\n"
      "If you made this change, there is nothing more to do.\n"
      "If you did not, recover your account at once through password recovery\n"
      "and contact CryptoPay support.\n";
  t.body.append(kSignature);
  return t;
}

Text email_changed_notice(std::string_view new_email) {
  Text t;
  t.subject = "Your email address was changed";
  t.body = "Hello,\n\n";
  t.body.append("The email address of your CryptoPay account was changed to:\n\n");
  t.body.append(new_email).append("\n\n");
  t.body.append(
      "From now on, sign in and receive codes with that address; this address\n"
      "will get no more mail about the account.\n\n"
      "If you did not make this change, contact CryptoPay support at once.\n");
  t.body.append(kSignature);
  return t;
}

}  // namespace cpa::mail
