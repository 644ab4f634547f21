// The SMTP backend: libcurl's SMTP client over one easy handle kept for the
// life of the backend, so consecutive deliveries reuse the relay connection.
// TLS: see smtp_tls_required() in backend.h.
//
// Outcomes: a refusal of the message or its recipient (550-554) is
// permanent; anything else that fails is retried: no connection, timeout,
// TLS, 4xx, and also the 5xx replies that say the relay is misconfigured for
// us (530 "STARTTLS first", 535 bad login): those are fixed by an admin, and
// the queue must still be there when they are. The error text is curl's description of the failure and
// the relay's reply code; never the message, the address or the password.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "mail/backend.h"

namespace cpa::mail {
namespace {

constexpr long kConnectTimeoutSeconds = 10;
constexpr long kTotalTimeoutSeconds = 60;

void global_init_once() {
  // Function-local static: initialised once, before any easy handle exists.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)rc;  // on failure curl_easy_init() fails too, and deliver() says so
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The host of scheme://[user[:password]@]host[:port][/...], lower-cased, an
// IPv6 literal without its brackets.
std::string url_host(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    rest = close == std::string_view::npos ? std::string_view() : rest.substr(1, close - 1);
  } else {
    rest = rest.substr(0, rest.find(':'));
  }
  std::string host(rest);
  for (char& c : host)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return host;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "localhost.") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

// An envelope address goes into an SMTP command line: it must hold no line
// break, space, angle bracket or other control character.
bool envelope_ok(std::string_view address) {
  if (address.empty() || address.find('@') == std::string_view::npos) return false;
  for (char c : address) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t read_upload(char* buffer, size_t size, size_t nitems, void* userdata) {
  Upload* up = static_cast<Upload*>(userdata);
  size_t n = std::min(size * nitems, up->data->size() - up->pos);
  memcpy(buffer, up->data->data() + up->pos, n);
  up->pos += n;
  return n;
}

class SmtpBackend final : public Backend {
 public:
  explicit SmtpBackend(const Config& config)
      : url_(config.smtp_url),
        user_(config.smtp_user),
        password_(config.smtp_password),
        require_tls_(smtp_tls_required(config)) {
    global_init_once();
    curl_ = curl_easy_init();
  }
  ~SmtpBackend() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }
  SmtpBackend(const SmtpBackend&) = delete;
  SmtpBackend& operator=(const SmtpBackend&) = delete;

  Delivery deliver(const Message& message) override {
    if (curl_ == nullptr) {
      curl_ = curl_easy_init();
      if (curl_ == nullptr) return {Delivery::Outcome::kRetry, "libcurl: cannot create a handle"};
    }
    if (!envelope_ok(message.from))
      return {Delivery::Outcome::kPermanent, "invalid sender address"};
    if (!envelope_ok(message.to))
      return {Delivery::Outcome::kPermanent, "invalid recipient address"};

    std::string data = format_rfc5322(message);
    Upload upload{&data};
    std::string mail_from = "<" + std::string(envelope_address(message.from)) + ">";
    std::string rcpt = "<" + message.to + ">";
    curl_slist* rcpts = curl_slist_append(nullptr, rcpt.c_str());
    if (rcpts == nullptr) return {Delivery::Outcome::kRetry, "out of memory"};

    // Reset drops the last delivery's options but keeps its connection.
    curl_easy_reset(curl_);
    CURL* h = curl_;
    curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_SMTP | CURLPROTO_SMTPS);
#endif
    // smtp:// upgrades with STARTTLS (which must succeed when TLS is
    // required); smtps:// is TLS from the first byte.
    curl_easy_setopt(h, CURLOPT_USE_SSL, require_tls_ ? static_cast<long>(CURLUSESSL_ALL)
                                                      : static_cast<long>(CURLUSESSL_TRY));
    if (!user_.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, user_.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, password_.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, kTotalTimeoutSeconds);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

    CURLcode rc = curl_easy_perform(h);
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    // The handle must not keep pointers to this call's locals.
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, static_cast<curl_slist*>(nullptr));
    curl_easy_setopt(h, CURLOPT_READDATA, static_cast<void*>(nullptr));
    curl_slist_free_all(rcpts);

    if (rc == CURLE_OK) return Delivery{};
    std::string error = curl_easy_strerror(rc);
    if (reply != 0) error += " (SMTP reply " + std::to_string(reply) + ")";
    if (reply >= 550 && reply <= 554 && rc != CURLE_LOGIN_DENIED)
      return {Delivery::Outcome::kPermanent, std::move(error)};
    return {Delivery::Outcome::kRetry, std::move(error)};
  }

 private:
  std::string url_;
  std::string user_;
  std::string password_;
  bool require_tls_;
  CURL* curl_ = nullptr;
};

}  // namespace

bool smtp_tls_required(const Config& config) {
  if (starts_with_nocase(config.smtp_url, "smtps://") || !config.smtp_user.empty()) return true;
  if (config.smtp_tls) return *config.smtp_tls == SmtpTls::kRequired;
  return !is_loopback(url_host(config.smtp_url));
}

std::unique_ptr<Backend> make_smtp_backend(const Config& config) {
  return std::make_unique<SmtpBackend>(config);
}

}  // namespace cpa::mail
