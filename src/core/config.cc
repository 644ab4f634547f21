#include "core/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <thread>
#include <type_traits>
#include <vector>

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
    *error = "cannot read the env file " + path + ": " + strerror(errno);
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

namespace {

// --- parsers: each reads one value into the Config, or says why it cannot.

using Apply = bool (*)(const std::string& value, Config* c, std::string* why);

template <auto Member, int64_t Min, int64_t Max>
bool integer(const std::string& value, Config* c, std::string* why) {
  int64_t parsed = 0;
  if (!parse_int(value, Min, Max, &parsed)) {
    *why = "expected an integer from " + std::to_string(Min) + " to " + std::to_string(Max) +
           ", got '" + value + "'";
    return false;
  }
  c->*Member = static_cast<std::remove_reference_t<decltype(c->*Member)>>(parsed);
  return true;
}

template <auto Member>
bool text(const std::string& value, Config* c, std::string*) {
  c->*Member = value;
  return true;
}

template <auto Member>
bool on_off(const std::string& value, Config* c, std::string* why) {
  if (value == "on" || value == "1" || value == "true") {
    c->*Member = true;
  } else if (value == "off" || value == "0" || value == "false") {
    c->*Member = false;
  } else {
    *why = "expected 'on' or 'off', got '" + value + "'";
    return false;
  }
  return true;
}

// The state dir moves every path that defaults under it.
bool state_dir(const std::string& value, Config* c, std::string*) {
  std::string dir = value;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  c->state_dir = dir;
  c->db_path = dir + "/auth.db";
  c->secret_key_file = dir + "/secret.key";
  c->mail_dir = dir + "/mail";
  c->socket = unix_listen_address(dir + "/fcgi.sock");
  c->hash_socket = unix_listen_address(dir + "/fcgi-hash.sock");
  c->log_file = dir + "/auth.log";
  return true;
}

// "-": no file, stderr only (under systemd, journald keeps it).
bool log_file(const std::string& value, Config* c, std::string*) {
  c->log_file = value == "-" ? "" : value;
  return true;
}

bool secret_key(const std::string& value, Config* c, std::string* why) {
  if (value.size() < 16) {
    *why = "must be at least 16 characters";  // never the key itself
    return false;
  }
  c->secret_key = value;
  return true;
}

// One of a few spellings, each naming the value at its index in `Values`.
template <auto Member, const auto& Names, const auto& Values>
bool choice(const std::string& value, Config* c, std::string* why) {
  static_assert(std::size(Names) == std::size(Values));
  std::string expected;
  for (size_t i = 0; i < std::size(Names); ++i) {
    if (value == Names[i]) {
      c->*Member = Values[i];
      return true;
    }
    expected.append(i == 0 ? "'" : i + 1 < std::size(Names) ? ", '" : " or '").append(Names[i]) += "'";
  }
  *why = "expected " + expected + ", got '" + value + "'";
  return false;
}

constexpr const char* kMailBackendNames[] = {"file", "smtp"};
constexpr MailBackend kMailBackends[] = {MailBackend::kFile, MailBackend::kSmtp};
constexpr const char* kSmtpTlsNames[] = {"required", "opportunistic"};
constexpr SmtpTls kSmtpTlsModes[] = {SmtpTls::kRequired, SmtpTls::kOpportunistic};

bool smtp_url(const std::string& value, Config* c, std::string* why) {
  const size_t scheme_end = value.find("://");
  const std::string scheme = value.substr(0, scheme_end);
  const std::string host = scheme_end == std::string::npos ? "" : value.substr(scheme_end + 3);
  if ((scheme != "smtp" && scheme != "smtps") || host.empty() || host[0] == ':' ||
      host[0] == '/') {
    *why = "expected smtp://host[:port] or smtps://host[:port], got '" + value + "'";
    return false;
  }
  c->smtp_url = value;
  return true;
}

// A unix socket path or tcp:HOST:PORT (core/listen_address.h).
template <auto Member>
bool listen_address(const std::string& value, Config* c, std::string* why) {
  std::optional<ListenAddress> address = parse_listen_address(value, why);
  if (!address) return false;
  c->*Member = std::move(*address);
  return true;
}

// postgresql://[user[:password]@][host][:port][/dbname][?param=value...]
// (libpq's URI; a unix-socket directory goes in ?host=). libpq checks the
// rest when connecting; `check` reports what it says.
bool database_url(const std::string& value, Config* c, std::string* why) {
  if (!is_postgresql_url(value)) {
    *why = "expected postgresql://user:password@host:port/database, got '" +
           without_password(value) + "'";
    return false;
  }
  c->database_url = value;
  return true;
}

// "addr@example.com" or "Display Name <addr@example.com>".
bool mail_from(const std::string& value, Config* c, std::string* why) {
  std::string address = value;
  const size_t open = value.rfind('<');
  if (open != std::string::npos && value.back() == '>') {
    address = value.substr(open + 1, value.size() - open - 2);
  }
  bool ascii = true;
  for (char ch : value) ascii &= static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
  if (!ascii || address.find('@') == std::string::npos ||
      address.find_first_of("<> ") != std::string::npos) {
    *why = "expected an email address or 'Name <address>' in printable ASCII, got '" + value + "'";
    return false;
  }
  c->mail_from = value;
  c->mail_from_address = address;
  return true;
}

bool public_url(const std::string& value, Config* c, std::string* why) {
  std::string url = value;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const size_t scheme_end = url.find("://");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https") ||
      url.size() == scheme_end + 3 ||
      url.find_first_of("/?#@ \t\r\n", scheme_end + 3) != std::string::npos) {
    *why = "expected http(s)://host[:port], got '" + value + "'";
    return false;
  }
  c->public_url = url;
  return true;
}

// "127.0.0.1/32, ::1/128, 10.0.0.0/8", or "none" (nobody). Every bad item
// is named at once.
bool cidr_list(const std::string& value, Config* c, std::string* why) {
  std::vector<Cidr> ranges;
  std::string problems;
  if (trim(value) != "none") {
    size_t start = 0;
    for (;;) {
      const size_t comma = value.find(',', start);
      const std::string item =
          trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      std::string item_why;
      std::optional<Cidr> range =
          item.empty() ? std::nullopt : parse_cidr(item, &item_why);
      if (item.empty()) item_why = "an empty item";
      if (range) {
        ranges.push_back(*range);
      } else {
        problems.append(problems.empty() ? "" : "; ").append(item_why);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (!problems.empty()) {
    *why = "expected comma-separated CIDR ranges (e.g. 127.0.0.1/32,::1/128) or 'none': " +
           problems;
    return false;
  }
  c->metrics_allow = std::move(ranges);
  return true;
}

// What is wrong with `origin` as AUTH_CORS_ORIGINS lists it, or "" when
// nothing is. An origin is matched against the Origin header byte for byte,
// so it must be written as browsers serialize one (RFC 6454): scheme "http"
// or "https", a host in lower case (a name, IPv4, or [IPv6]), a port only
// when it is not the scheme's default and without leading zeros, nothing
// after it. Anything else could never match, so it is an error.
std::string origin_problem(std::string_view origin) {
  const std::string shape =
      "expected http://host[:port] or https://host[:port] (no path, no trailing slash)";
  if (origin.empty()) return "an empty entry (a comma too many?)";
  if (origin == "*" || origin == "null")
    return "list each origin; '*' and 'null' are never allowed";
  const size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return shape;
  const std::string_view scheme = origin.substr(0, sep);
  if (scheme != "http" && scheme != "https") return shape;
  std::string_view rest = origin.substr(sep + 3);
  std::string_view host;
  bool upper = false;
  if (!rest.empty() && rest[0] == '[') {  // [IPv6]
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close < 3) return shape;
    host = rest.substr(0, close + 1);
    for (char ch : host.substr(1, host.size() - 2)) {
      upper |= ch >= 'A' && ch <= 'F';
      if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':' && ch != '.') return shape;
    }
  } else {
    host = rest.substr(0, rest.find(':'));
    bool label_empty = true;
    for (char ch : host) {
      upper |= ch >= 'A' && ch <= 'Z';
      if (ch == '.') {
        if (label_empty) return shape;
        label_empty = true;
      } else if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-') {
        label_empty = false;
      } else {
        return shape;
      }
    }
    if (label_empty) return shape;  // empty, or ends with a dot
  }
  if (upper) return "the host must be in lower case, as browsers send it";
  rest.remove_prefix(host.size());
  if (rest.empty()) return "";
  const std::string_view port = rest.substr(1);
  const std::optional<int64_t> number = parse_decimal(port);
  if (rest[0] != ':' || !number || *number < 1 || *number > 65535 || port[0] == '0') return shape;
  if ((scheme == "http" && *number == 80) || (scheme == "https" && *number == 443))
    return "leave out the scheme's default port, as browsers do: " + std::string(scheme) + "://" +
           std::string(host);
  return "";
}

// Comma-separated origins (spaces around the commas allowed).
bool cors_origins(const std::string& value, Config* c, std::string* why) {
  std::vector<std::string> origins;
  for (size_t start = 0;;) {
    const size_t comma = value.find(',', start);
    const std::string_view origin =
        trim_whitespace(std::string_view(value).substr(start, comma - start));
    const std::string problem = origin_problem(origin);
    if (!problem.empty()) {
      *why = "'" + std::string(origin) + "': " + problem;
      return false;
    }
    if (std::find(origins.begin(), origins.end(), origin) == origins.end())
      origins.emplace_back(origin);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  c->cors_origins = std::move(origins);
  return true;
}

struct Variable {
  ConfigVariable info;
  Apply apply;
};

// The one table. Order matters once: AUTH_STATE_DIR comes before the paths
// that default under it, so that an explicit path wins.
constexpr Variable kVariables[] = {
    {{"AUTH_HTTP_PORT", "`8080`", "port nginx listens on in `make run` (127.0.0.1)"},
     integer<&Config::http_port, 1, 65535>},
    {{"AUTH_STATE_DIR", "`./var`", "database, sockets, pid files, logs, mail files"}, state_dir},
    {{"AUTH_DB_PATH", "`$AUTH_STATE_DIR/auth.db`", "SQLite database"}, text<&Config::db_path>},
    {{"AUTH_DATABASE_URL", "— (SQLite)",
      "`postgresql://user:password@host:port/db` (`?sslmode=`, `?host=/socket/dir` as libpq "
      "reads them): use PostgreSQL instead of SQLite, for several nodes (see \"More than one "
      "machine\" below)"},
     database_url},
    {{"AUTH_SECRET_KEY", "generated once into `$AUTH_STATE_DIR/secret.key` (mode 0600)",
      "JWT and code-hash key (≥ 16 characters)"},
     secret_key},
    {{"AUTH_WORKERS", "number of cores", "FastCGI worker processes"},
     integer<&Config::workers, 1, 256>},
    {{"AUTH_HASH_WORKERS", "number of cores", "the pool for the routes that hash a password or PIN"},
     integer<&Config::hash_workers, 1, 256>},
    {{"AUTH_ACCESS_TTL", "`3000`", "access token lifetime, seconds"},
     integer<&Config::access_ttl, 1, 10LL * 365 * 86400>},
    {{"AUTH_REFRESH_TTL", "`86400`", "refresh token lifetime, seconds"},
     integer<&Config::refresh_ttl, 1, 10LL * 365 * 86400>},
    {{"AUTH_CODE_TTL", "`600`", "one-time code lifetime, seconds"},
     integer<&Config::code_ttl, 1, 7LL * 86400>},
    {{"AUTH_REFRESH_REUSE_GRACE", "`0`",
      "seconds (0–3600) after its rotation during which a refresh token presented again gets a "
      "new pair instead of revoking its session (see \"Single-page apps\" below)"},
     integer<&Config::refresh_reuse_grace, 0, 3600>},
    {{"AUTH_MAIL_BACKEND", "`file`", "`file` or `smtp`"},
     choice<&Config::mail_backend, kMailBackendNames, kMailBackends>},
    {{"AUTH_MAIL_DIR", "`$AUTH_STATE_DIR/mail`", "where the file backend writes"},
     text<&Config::mail_dir>},
    {{"AUTH_SMTP_URL", "—", "`smtp://host:587` (STARTTLS, see `AUTH_SMTP_TLS`) or `smtps://host:465`"},
     smtp_url},
    {{"AUTH_SMTP_USER", "—", "relay login; TLS is then required whatever `AUTH_SMTP_TLS` says"},
     text<&Config::smtp_user>},
    {{"AUTH_SMTP_PASSWORD", "—", "relay password"}, text<&Config::smtp_password>},
    {{"AUTH_SMTP_TLS",
      "`required`; `opportunistic` for a relay on loopback (`localhost`, `127.0.0.0/8`, `::1`)",
      "`smtp://`: `required` = STARTTLS must succeed or nothing is sent; `opportunistic` = "
      "STARTTLS when the relay offers it. `smtps://` is always TLS"},
     choice<&Config::smtp_tls, kSmtpTlsNames, kSmtpTlsModes>},
    {{"AUTH_MAIL_CONNECTIONS", "`4`",
      "messages the mailer delivers at once (1–64): SMTP connections to the relay, each kept and "
      "reused for many messages (the file backend writes that many files at once)"},
     integer<&Config::mail_connections, 1, 64>},
    {{"AUTH_MAIL_FROM", "`no-reply@localhost`", "sender: `addr` or `Name <addr>`"}, mail_from},
    {{"AUTH_PBKDF2_ITERATIONS", "`600000`", "password hash cost"},
     integer<&Config::pbkdf2_iterations, 1, 100000000>},
    {{"AUTH_PIN_ITERATIONS", "`100000`", "PIN hash cost"},
     integer<&Config::pin_iterations, 1, 100000000>},
    {{"AUTH_THROTTLE", "`on`", "`off` drops nginx's per-address limits (load tests)"},
     on_off<&Config::throttle>},
    {{"AUTH_SET_PASSWORD_REQUIRES_CODE", "`off`",
      "`on`: `public-set-password/` always needs the verifying code (else only from the address "
      "that verified)"},
     on_off<&Config::set_password_requires_code>},
    {{"AUTH_PUBLIC_URL", "—",
      "`https://host[:port]` that `users/?limit=` links are built on; unset: a loopback Host, else "
      "nginx's `server_name` (never an arbitrary Host)"},
     public_url},
    {{"AUTH_METRICS_ALLOW", "`127.0.0.1/32`",
      "who may read `metrics/`: comma-separated CIDR ranges, IPv4 and IPv6 (a bare address is one "
      "host), or `none`; any other client gets a 404. Checked by the pool on nginx's client "
      "address, and by nginx too (`make run`; the production site has its own list)"},
     cidr_list},
    {{"AUTH_CORS_ORIGINS", "— (no CORS headers)",
      "the origins whose pages may call the API from a browser, through `run`'s nginx (API.md "
      "§1): comma-separated, each as browsers send it, `http(s)://host[:port]` with no path and no "
      "trailing slash, e.g. `https://app.example.com,http://localhost:5173`. Behind the system "
      "nginx, the site file lists them (see \"Browsers (CORS)\" below)"},
     cors_origins},
    {{"AUTH_SOCKET", "`$AUTH_STATE_DIR/fcgi.sock`",
      "where the main pool listens for nginx: a unix socket path (mode 0660), or `tcp:HOST:PORT` "
      "(a numeric IPv4 address, or IPv6 in brackets: `tcp:[fd00::11]:9000`) for a node behind "
      "an nginx on another host. FastCGI has no authentication: keep a TCP port on a private "
      "network, firewalled to nginx's host (see \"Several nodes behind one nginx\" below)"},
     listen_address<&Config::socket>},
    {{"AUTH_HASH_SOCKET", "`$AUTH_STATE_DIR/fcgi-hash.sock`",
      "where the hashing pool listens: as `AUTH_SOCKET`, and not the same address"},
     listen_address<&Config::hash_socket>},
    {{"AUTH_LOG_FILE", "`$AUTH_STATE_DIR/auth.log`",
      "log file (also on stderr); `-`: stderr only (journald); SIGUSR1 reopens it"},
     log_file},
    {{"AUTH_DB_BUSY_TIMEOUT_MS", "`5000`", "how long a write waits for the lock before 503"},
     integer<&Config::db_busy_timeout_ms, 1, 600000>},
    {{"AUTH_NGINX_TEMPLATE", "built in", "nginx configuration template for `run`"},
     text<&Config::nginx_template>},
    {{"AUTH_NGINX_BIN", "`/usr/sbin/nginx`", "nginx binary for `run`"}, text<&Config::nginx_bin>},
    {{"AUTH_SWAGGER_UI_DIR", "`third_party/swagger-ui` of the source tree",
      "Swagger UI's files (`scripts/install-swagger-ui.sh`) that `run` copies into the state dir for "
      "its nginx to serve with `docs/`"},
     text<&Config::swagger_ui_dir>},
    {{"AUTH_BENCH", "`0`", "`1`: `run` adds nginx's own answer for `make bench` (its ceiling)"},
     on_off<&Config::bench>},
};

// Damerau-free Levenshtein distance, for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_variable(const std::string& name) {
  const Variable* closest = nullptr;
  size_t best = SIZE_MAX;
  for (const Variable& v : kVariables) {
    const size_t d = edit_distance(name, v.info.name);
    if (d < best) {
      best = d;
      closest = &v;
    }
  }
  std::string message = name + ": unknown variable";
  if (closest && best <= 3) message += " (did you mean " + std::string(closest->info.name) + "?)";
  return message;
}

// Checks across variables, once each has its value.
void check_whole(const Config& c, std::vector<std::string>* errors) {
  if (c.mail_backend == MailBackend::kSmtp && c.smtp_url.empty())
    errors->push_back("AUTH_SMTP_URL: required when AUTH_MAIL_BACKEND=smtp");
  // Also for the defaults under a long AUTH_STATE_DIR, hence here.
  if (!c.socket.tcp() && c.socket.path.size() >= 108)
    errors->push_back("AUTH_SOCKET: the socket path must be shorter than 108 bytes: " +
                      c.socket.path);
  if (!c.hash_socket.tcp() && c.hash_socket.path.size() >= 108)
    errors->push_back("AUTH_HASH_SOCKET: the socket path must be shorter than 108 bytes: " +
                      c.hash_socket.path);
  if (c.socket == c.hash_socket)
    errors->push_back("AUTH_HASH_SOCKET: the same address as AUTH_SOCKET (" + c.socket.text() +
                      "): each pool needs its own");
}

}  // namespace

std::span<const ConfigVariable> config_variables() {
  static const std::vector<ConfigVariable> infos = [] {
    std::vector<ConfigVariable> out;
    for (const Variable& v : kVariables) out.push_back(v.info);
    return out;
  }();
  return infos;
}

std::string Config::database_for_display() const {
  return database_url.empty() ? db_path : without_password(database_url);
}

bool is_postgresql_url(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string without_password(const std::string& text) {
  std::string shown = text;
  // postgresql://user:PASSWORD@host..., and ?password=... / &password=...
  const size_t start = shown.find("://");
  const size_t at = shown.find('@', start == std::string::npos ? 0 : start + 3);
  const size_t colon = start == std::string::npos ? std::string::npos : shown.find(':', start + 3);
  if (at != std::string::npos && colon != std::string::npos && colon < at)
    shown.replace(colon + 1, at - colon - 1, "***");
  for (size_t p = shown.find("password="); p != std::string::npos;
       p = shown.find("password=", p + 1)) {
    const size_t value = p + 9;
    const size_t end = shown.find('&', value);
    shown.replace(value, (end == std::string::npos ? shown.size() : end) - value, "***");
  }
  return shown;
}

std::string config_help() {
  std::string out;
  for (const Variable& v : kVariables) {
    std::string default_text = v.info.default_text;
    std::erase(default_text, '`');
    out.append("  ").append(v.info.name).append(" (default: ").append(default_text).append(")\n");
    std::string meaning = v.info.meaning;
    std::erase(meaning, '`');
    out.append("      ").append(meaning).append("\n");
  }
  return out;
}

std::string config_markdown_table() {
  std::string out = "| variable | default | meaning |\n|---|---|---|\n";
  for (const Variable& v : kVariables) {
    out.append("| `").append(v.info.name).append("` | ").append(v.info.default_text);
    out.append(" | ").append(v.info.meaning).append(" |\n");
  }
  return out;
}

std::optional<Config> load_config(const Environment& env, const Environment& file_env,
                                  std::string* error) {
  Config c;
  for (const auto& [k, v] : file_env)
    if (k.rfind("AUTH_", 0) == 0) c.raw[k] = v;
  for (const auto& [k, v] : env)
    if (k.rfind("AUTH_", 0) == 0) c.raw[k] = v;

  std::vector<std::string> errors;
  for (const auto& [name, value] : c.raw) {
    bool known = false;
    for (const Variable& v : kVariables) known |= name == v.info.name;
    if (!known) errors.push_back(unknown_variable(name));
  }

  // Defaults that depend on the machine; the paths under the state dir.
  unsigned cores = std::thread::hardware_concurrency();
  // One worker per core: with kept connections a worker serves many of them
  // from its epoll set, and more workers than cores only switched between
  // each other (issue 14: cores x 2 spent 10-30 % more CPU per request).
  c.workers = static_cast<int>(cores ? cores : 1);
  // One hasher per core: more only share the same cores, one hash at a time.
  c.hash_workers = static_cast<int>(cores ? cores : 1);
  c.nginx_bin = access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
  c.swagger_ui_dir = std::string(CPA_SOURCE_DIR) + "/third_party/swagger-ui";
  std::string ignored;
  state_dir(c.state_dir, &c, &ignored);

  for (const Variable& v : kVariables) {
    auto it = c.raw.find(v.info.name);
    if (it == c.raw.end() || it->second.empty()) continue;  // empty means unset
    std::string why;
    if (!v.apply(it->second, &c, &why)) errors.push_back(std::string(v.info.name) + ": " + why);
  }
  check_whole(c, &errors);

  if (!errors.empty()) {
    error->clear();
    for (const std::string& e : errors) error->append(error->empty() ? "" : "\n").append(e);
    return std::nullopt;
  }
  return c;
}

ConfigFile find_config_file(const std::string& option, const Environment& env,
                            const std::string& default_path) {
  if (!option.empty()) return {option, ConfigFile::Source::kOption};
  auto it = env.find(kConfigFileVariable);
  if (it != env.end()) {
    if (it->second.empty()) return {};
    return {it->second, ConfigFile::Source::kVariable};
  }
  // A default file that exists but cannot be read is reported by
  // parse_env_file(), not skipped: skipping would run on other settings.
  struct stat st;
  if (!default_path.empty() && stat(default_path.c_str(), &st) == 0)
    return {default_path, ConfigFile::Source::kDefault};
  return {};
}

}  // namespace cpa
