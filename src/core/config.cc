#include "core/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/random.h"
#include "core/strings.h"

extern char** environ;

namespace cpa {
namespace {

std::string trim(const std::string& s) { return std::string(trim_whitespace(s)); }

bool parse_int(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  std::optional<int64_t> v = parse_decimal(text);
  if (!v || *v < min || *v > max) return false;
  *out = *v;
  return true;
}

}  // namespace

Environment process_environment() {
  Environment env;
  for (char** p = environ; p && *p; ++p) {
    const char* eq = strchr(*p, '=');
    if (!eq) continue;
    env.emplace(std::string(*p, eq - *p), std::string(eq + 1));
  }
  return env;
}

bool parse_env_file(const std::string& path, Environment* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "--config: cannot read " + path + ": " + strerror(errno);
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
    size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = path + ":" + std::to_string(lineno) + ": expected KEY=VALUE";
      return false;
    }
    std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    (*out)[key] = value;
  }
  return true;
}

std::optional<Config> load_config(const Environment& env, const Environment& file_env,
                                  std::string* error) {
  Config c;
  for (const auto& [k, v] : file_env)
    if (k.rfind("AUTH_", 0) == 0) c.raw[k] = v;
  for (const auto& [k, v] : env)
    if (k.rfind("AUTH_", 0) == 0) c.raw[k] = v;

  auto get = [&](const char* name) -> const std::string* {
    auto it = c.raw.find(name);
    return it == c.raw.end() || it->second.empty() ? nullptr : &it->second;
  };
  bool ok = true;
  auto fail = [&](const std::string& message) {
    if (ok) *error = message;
    ok = false;
  };
  auto integer = [&](const char* name, int64_t min, int64_t max, auto* field) {
    const std::string* v = get(name);
    if (!v) return;
    int64_t parsed;
    if (!parse_int(*v, min, max, &parsed)) {
      fail(std::string(name) + ": expected an integer from " + std::to_string(min) + " to " +
           std::to_string(max) + ", got '" + *v + "'");
      return;
    }
    *field = static_cast<std::remove_pointer_t<decltype(field)>>(parsed);
  };
  auto text = [&](const char* name, std::string* field) {
    if (const std::string* v = get(name)) *field = *v;
  };

  integer("AUTH_HTTP_PORT", 1, 65535, &c.http_port);
  text("AUTH_STATE_DIR", &c.state_dir);
  while (c.state_dir.size() > 1 && c.state_dir.back() == '/') c.state_dir.pop_back();
  c.db_path = c.state_dir + "/auth.db";
  text("AUTH_DB_PATH", &c.db_path);
  c.secret_key_file = c.state_dir + "/secret.key";
  text("AUTH_SECRET_KEY", &c.secret_key);
  if (!c.secret_key.empty() && c.secret_key.size() < 16)
    fail("AUTH_SECRET_KEY: must be at least 16 characters");

  unsigned cores = std::thread::hardware_concurrency();
  c.workers = static_cast<int>(cores ? cores * 2 : 2);
  integer("AUTH_WORKERS", 1, 256, &c.workers);
  // One hasher per core: more only share the same cores, one hash at a time.
  c.hash_workers = static_cast<int>(cores ? cores : 1);
  integer("AUTH_HASH_WORKERS", 1, 256, &c.hash_workers);
  integer("AUTH_ACCESS_TTL", 1, 10LL * 365 * 86400, &c.access_ttl);
  integer("AUTH_REFRESH_TTL", 1, 10LL * 365 * 86400, &c.refresh_ttl);
  integer("AUTH_CODE_TTL", 1, 7LL * 86400, &c.code_ttl);
  integer("AUTH_REFRESH_REUSE_GRACE", 0, 3600, &c.refresh_reuse_grace);

  if (const std::string* v = get("AUTH_MAIL_BACKEND")) {
    if (*v == "file") {
      c.mail_backend = MailBackend::kFile;
    } else if (*v == "smtp") {
      c.mail_backend = MailBackend::kSmtp;
    } else {
      fail("AUTH_MAIL_BACKEND: expected 'file' or 'smtp', got '" + *v + "'");
    }
  }
  c.mail_dir = c.state_dir + "/mail";
  text("AUTH_MAIL_DIR", &c.mail_dir);
  text("AUTH_SMTP_URL", &c.smtp_url);
  text("AUTH_SMTP_USER", &c.smtp_user);
  text("AUTH_SMTP_PASSWORD", &c.smtp_password);
  if (c.mail_backend == MailBackend::kSmtp) {
    if (c.smtp_url.empty()) {
      fail("AUTH_SMTP_URL: required when AUTH_MAIL_BACKEND=smtp");
    } else if (c.smtp_url.rfind("smtp://", 0) != 0 && c.smtp_url.rfind("smtps://", 0) != 0) {
      fail("AUTH_SMTP_URL: expected smtp://host[:port] or smtps://host[:port], got '" +
           c.smtp_url + "'");
    }
  }
  text("AUTH_MAIL_FROM", &c.mail_from);
  if (c.mail_from.find('@') == std::string::npos ||
      c.mail_from.find_first_of("\r\n<>") != std::string::npos)
    fail("AUTH_MAIL_FROM: expected an email address, got '" + c.mail_from + "'");

  integer("AUTH_PBKDF2_ITERATIONS", 1, 100000000, &c.pbkdf2_iterations);
  integer("AUTH_PIN_ITERATIONS", 1, 100000000, &c.pin_iterations);
  auto on_off = [&](const char* name, bool* field) {
    const std::string* v = get(name);
    if (!v) return;
    if (*v == "on" || *v == "1" || *v == "true") {
      *field = true;
    } else if (*v == "off" || *v == "0" || *v == "false") {
      *field = false;
    } else {
      fail(std::string(name) + ": expected 'on' or 'off', got '" + *v + "'");
    }
  };
  on_off("AUTH_THROTTLE", &c.throttle);
  on_off("AUTH_SET_PASSWORD_REQUIRES_CODE", &c.set_password_requires_code);
  text("AUTH_PUBLIC_URL", &c.public_url);
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  if (!c.public_url.empty()) {
    const size_t scheme_end = c.public_url.find("://");
    const std::string scheme = c.public_url.substr(0, scheme_end);
    if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https") ||
        c.public_url.size() == scheme_end + 3 ||
        c.public_url.find_first_of("/?#@ \t\r\n", scheme_end + 3) != std::string::npos) {
      fail("AUTH_PUBLIC_URL: expected http(s)://host[:port], got '" + c.public_url + "'");
    }
  }

  c.socket_path = c.state_dir + "/fcgi.sock";
  text("AUTH_SOCKET", &c.socket_path);
  if (c.socket_path.size() >= 108)
    fail("AUTH_SOCKET: the socket path must be shorter than 108 bytes: " + c.socket_path);
  c.hash_socket_path = c.state_dir + "/fcgi-hash.sock";
  text("AUTH_HASH_SOCKET", &c.hash_socket_path);
  if (c.hash_socket_path.size() >= 108)
    fail("AUTH_HASH_SOCKET: the socket path must be shorter than 108 bytes: " +
         c.hash_socket_path);
  c.log_file = c.state_dir + "/auth.log";
  text("AUTH_LOG_FILE", &c.log_file);
  text("AUTH_NGINX_TEMPLATE", &c.nginx_template);
  c.nginx_bin = access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
  text("AUTH_NGINX_BIN", &c.nginx_bin);
  integer("AUTH_DB_BUSY_TIMEOUT_MS", 1, 600000, &c.db_busy_timeout_ms);

  if (!ok) return std::nullopt;
  return c;
}

bool ensure_secret_key(Config* config, std::string* error) {
  if (!config->secret_key.empty()) return true;
  const std::string& path = config->secret_key_file;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    SystemRng rng;
    std::string key = rng.hex(32);
    // Written aside and published with link(), which fails if another process
    // got there first: two processes starting at once never use two keys. A
    // temp file a crash left behind (same pid after a restart) is replaced.
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    unlink(tmp.c_str());
    int wfd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (wfd < 0) {
      *error = "AUTH_SECRET_KEY: cannot create " + tmp + ": " + strerror(errno);
      return false;
    }
    bool written = write(wfd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                   fsync(wfd) == 0;
    close(wfd);
    if (!written || link(tmp.c_str(), path.c_str()) != 0) {
      int saved = errno;
      unlink(tmp.c_str());
      if (saved != EEXIST) {
        *error = "AUTH_SECRET_KEY: cannot write " + path + ": " + strerror(saved);
        return false;
      }
    } else {
      unlink(tmp.c_str());
    }
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    *error = "AUTH_SECRET_KEY: cannot read " + path + ": " + strerror(errno);
    return false;
  }
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  std::string key = n > 0 ? trim(std::string(buf, static_cast<size_t>(n))) : "";
  if (key.size() < 16) {
    *error = "AUTH_SECRET_KEY: " + path + " holds no usable key (at least 16 characters)";
    return false;
  }
  config->secret_key = key;
  return true;
}

}  // namespace cpa
