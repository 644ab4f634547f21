#include "mail/smtp_probe.h"

#include <curl/curl.h>

#include <memory>

#include "mail/backend.h"

namespace cpa::mail {

namespace {

constexpr long kTimeoutSeconds = 10;

}  // namespace

Status probe_smtp_relay(const Config& config) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);  // once, before any handle
  (void)init;
  std::unique_ptr<CURL, void (*)(CURL*)> handle(curl_easy_init(), curl_easy_cleanup);
  CURL* h = handle.get();
  if (h == nullptr) return Status::Internal("libcurl: cannot create a handle");
  curl_easy_setopt(h, CURLOPT_URL, config.smtp_url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_SMTP | CURLPROTO_SMTPS);
#endif
  // TLS exactly as the backend asks for it (AUTH_SMTP_TLS, backend.h).
  curl_easy_setopt(h, CURLOPT_USE_SSL, smtp_tls_required(config)
                                           ? static_cast<long>(CURLUSESSL_ALL)
                                           : static_cast<long>(CURLUSESSL_TRY));
  if (!config.smtp_user.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, config.smtp_user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, config.smtp_password.c_str());
  }
  // Connect only: curl's SMTP connect phase is the greeting, EHLO, STARTTLS
  // and AUTH; the transfer (MAIL FROM, RCPT, DATA) never starts.
  curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) return Status();
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  std::string reason = curl_easy_strerror(rc);
  if (reply != 0) reason += " (SMTP reply " + std::to_string(reply) + ")";
  return Status::Unavailable(reason);
}

}  // namespace cpa::mail
