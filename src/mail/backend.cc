#include "mail/backend.h"

namespace cpa::mail {

std::unique_ptr<Backend> make_backend(const Config& config) {
  switch (config.mail_backend) {
    case MailBackend::kSmtp:
      return make_smtp_backend(config);
    case MailBackend::kFile:
      break;
  }
  return make_file_backend(config.mail_dir);
}

}  // namespace cpa::mail
