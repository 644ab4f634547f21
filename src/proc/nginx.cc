#include "proc/nginx.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "api/routes.h"
#include "core/log.h"
#include "http/render.h"
#include "proc/docs_assets.h"
#include "proc/signals.h"

namespace cpa::proc {

extern const std::string_view kNginxLocalTemplate;  // nginx/cryptopay-auth.local.conf.in
extern const std::string_view kNginxFastcgiSnippet;  // nginx/cryptopay-auth-fastcgi.conf
extern const std::string_view kNginxCorsSnippet;  // nginx/cryptopay-auth-cors.conf
extern const std::string_view kNginxCorsHeadersSnippet;  // nginx/cryptopay-auth-cors-headers.conf

namespace {

bool write_file_atomically(const std::string& path, std::string_view text, std::string* error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) {
      *error = "cannot write " + tmp;
      return false;
    }
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + strerror(errno);
    return false;
  }
  return true;
}

// AUTH_CORS_ORIGINS as the site file's `set $cpa_cors_origins` lists them:
// separated by spaces (config.cc has checked that none holds a space or quote).
std::string join_origins(const std::vector<std::string>& origins) {
  std::string out;
  for (const std::string& origin : origins) out.append(out.empty() ? "" : " ").append(origin);
  return out;
}

}  // namespace

std::string metrics_access_rules(const Config& config) {
  std::string rules;
  for (const Cidr& range : config.metrics_allow)
    rules.append("allow ").append(range.text()).append(";\n            ");
  return rules + "deny all;";
}

bool render_template(const std::string& text, const std::map<std::string, std::string>& values,
                     std::string* out, std::string* error) {
  out->clear();
  size_t pos = 0;
  for (;;) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      out->append(text, pos, std::string::npos);
      return true;
    }
    size_t close = text.find("}}", open);
    if (close == std::string::npos) {
      *error = "unterminated {{ in the nginx template";
      return false;
    }
    std::string name = text.substr(open + 2, close - open - 2);
    auto it = values.find(name);
    if (it == values.end()) {
      *error = "unknown placeholder {{" + name + "}} in the nginx template";
      return false;
    }
    out->append(text, pos, open - pos).append(it->second);
    pos = close + 2;
  }
}

std::map<std::string, std::string> nginx_error_bodies() {
  // 502 and 504: the workers cannot be reached, which is the pool's 503 body.
  const std::pair<const char*, Status> kErrors[] = {
      {"BODY_400", Status::Detail(400, "Bad request.")},
      {"BODY_404", Status::NotFound()},
      {"BODY_413", Status::TooLarge()},
      {"BODY_429", Status::Throttled(1)},
      {"BODY_500", Status::Internal("nginx")},
      {"BODY_502", Status::Unavailable("nginx")},
      {"BODY_504", Status::Unavailable("nginx")},
  };
  std::map<std::string, std::string> bodies;
  for (const auto& [name, status] : kErrors) bodies[name] = http::render_error(status).body;
  return bodies;
}

std::string access_log_format() {
  return "log_format cryptopay_auth '$time_iso8601 rid=$cpa_request_id $remote_addr "
         "\"$request_method $uri\" $status $body_bytes_sent $request_time';";
}

bool write_nginx_config(const Config& config, const std::optional<NginxUser>& user,
                        std::string* path, std::string* error) {
  std::string text(kNginxLocalTemplate);
  if (!config.nginx_template.empty()) {
    std::ifstream in(config.nginx_template);
    if (!in) {
      *error = "AUTH_NGINX_TEMPLATE: cannot read " + config.nginx_template;
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const std::string& state = config.state_dir;
  for (const char* sub : {"/nginx", "/nginx/client_body", "/nginx/fastcgi", "/nginx/proxy",
                          "/nginx/uwsgi", "/nginx/scgi"}) {
    std::string dir = state + sub;
    if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      *error = "cannot create " + dir + ": " + strerror(errno);
      return false;
    }
  }
  std::map<std::string, std::string> values = nginx_error_bodies();
  values.insert({
      {"STATE_DIR", state},
      // What an upstream's `server` takes: unix:PATH or HOST:PORT.
      {"FASTCGI_SERVER", config.socket.nginx_server()},
      {"HASH_FASTCGI_SERVER", config.hash_socket.nginx_server()},
      // As configured (a path), for a template of our own written before
      // TCP listening, with `server unix:{{SOCKET}};`.
      {"SOCKET", config.socket.text()},
      {"HASH_SOCKET", config.hash_socket.text()},
      {"HASH_ROUTES", api::hash_routes_regex()},
      {"UNTHROTTLED_ROUTES", api::unthrottled_routes_regex()},
      {"SWAGGER_UI_DIR", docs_assets_dir(config)},
      {"LISTEN", "127.0.0.1:" + std::to_string(config.http_port)},
      {"USER_DIRECTIVE", user_directive(user)},
      {"CORS_ORIGINS", join_origins(config.cors_origins)},
      {"CORS_ROUTE_METHODS", api::cors_methods_map()},
      {"THROTTLE", config.throttle ? "" : "# "},
      {"BENCH", config.bench ? "" : "# "},
      {"METRICS_ALLOW", metrics_access_rules(config)},
      {"ACCESS_LOG_FORMAT", access_log_format()},
  });
  if (!copy_docs_assets(config, error)) return false;
  std::string rendered;
  if (!render_template(text, values, &rendered, error)) return false;
  // The FastCGI parameters and CORS are the production site's snippets, as is.
  for (const auto& [name, snippet] : {std::pair{"/fastcgi.conf", kNginxFastcgiSnippet},
                                      std::pair{"/cors.conf", kNginxCorsSnippet},
                                      std::pair{"/cors-headers.conf", kNginxCorsHeadersSnippet}}) {
    if (!write_file_atomically(state + name, snippet, error)) return false;
  }
  *path = state + "/nginx.conf";
  return write_file_atomically(*path, rendered, error);
}

pid_t start_nginx(const Config& config, const std::string& conf_path) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  reset_signals_for_exec();
  std::string prefix = config.state_dir + "/nginx/";
  std::string error_log = config.state_dir + "/nginx-error.log";
  execl(config.nginx_bin.c_str(), "nginx", "-p", prefix.c_str(), "-c", conf_path.c_str(), "-e",
        error_log.c_str(), static_cast<char*>(nullptr));
  std::string msg = "cannot run " + config.nginx_bin + ": " + strerror(errno);
  log::set_role("nginx");
  log::error(msg);
  _exit(127);
}

}  // namespace cpa::proc
