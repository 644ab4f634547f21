// nginx for `cryptopay-auth run` (and the end-to-end tests): renders the
// config template (nginx/cryptopay-auth.local.conf.in, compiled in; or the
// file named by AUTH_NGINX_TEMPLATE) into $AUTH_STATE_DIR/nginx.conf and
// starts nginx in the foreground as a child of the master.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "core/config.h"
#include "proc/nginx_user.h"

namespace cpa::proc {

// Replaces every {{NAME}} in `text` from `values`; false (and *error names
// it) on an unknown placeholder.
bool render_template(const std::string& text, const std::map<std::string, std::string>& values,
                     std::string* out, std::string* error);

// nginx's allow/deny lines for metrics/ from AUTH_METRICS_ALLOW: one
// "allow RANGE;" each, then "deny all;".
std::string metrics_access_rules(const Config& config);

// The JSON bodies nginx answers itself (its own 400, 404, 413, 429, 500,
// 502 and 504), rendered by http::render_error as the pool would write
// them: the template's {{BODY_<status>}} placeholders. The production site
// file carries copies that a unit test keeps equal to these.
std::map<std::string, std::string> nginx_error_bodies();

// nginx's access log format, the same in both configurations (the
// template's {{ACCESS_LOG_FORMAT}}; the production site file carries a copy
// that a unit test keeps equal): the request id comes first, the one nginx
// passes to the pool as REQUEST_ID (fastcgi snippet), which the pool echoes
// in X-Request-Id and writes in its own line for the request, so one grep
// finds both lines.
std::string access_log_format();

// Renders the template for `config` into $AUTH_STATE_DIR/nginx.conf, beside
// the FastCGI snippet it includes, with nginx's workers running as `user`
// (nginx_user.h); returns the path of the rendered file.
bool write_nginx_config(const Config& config, const std::optional<NginxUser>& user,
                        std::string* path, std::string* error);

// Forks and execs nginx on the rendered config; returns its pid, or -1.
pid_t start_nginx(const Config& config, const std::string& conf_path);

}  // namespace cpa::proc
