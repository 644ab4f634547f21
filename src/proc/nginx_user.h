// Who nginx's workers run as under `cryptopay-auth run`, and what that user
// may reach. Started by root, nginx would keep root for its workers if told
// to (`user root;`), so that one bug in nginx would own the machine; they
// drop to an unprivileged user instead, which reaches the two FastCGI sockets
// and nginx's temp dirs, and nothing else of the state dir: the database, the
// key and the logs stay the service's.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/config.h"

namespace cpa::proc {

struct NginxUser {
  std::string name;   // for nginx's `user` directive
  std::string group;
  uid_t uid;
  gid_t gid;
};

// When this process is root: www-data (Debian's nginx user) if it exists,
// else nobody with its group (nogroup). Otherwise nullopt: nginx cannot
// change user and runs as ours, which reaches everything already.
std::optional<NginxUser> nginx_worker_user();

// nginx's `user` directive for `user` (or a comment when there is none).
std::string user_directive(const std::optional<NginxUser>& user);

// Gives `user`'s group a way in: the state dir, $AUTH_STATE_DIR/nginx (nginx
// hands its temp dirs there to the user itself) and the two sockets get that
// group; the dirs become 0710, searchable but not listable. Then checks, as
// `user`, that it can connect to both sockets and enter nginx's dir, and that
// it can read neither the database, the secret key nor the log. The sockets
// and nginx's dir must exist already. False with *error naming the path and
// the fix.
bool grant_nginx_access(const Config& config, const NginxUser& user, std::string* error);

}  // namespace cpa::proc
