// Config: the process's configuration, read once at start from the
// environment (API.md §8), layered over an env file: --config FILE, else
// $CRYPTOPAY_AUTH_CONFIG, else /etc/cryptopay-auth.env when it exists
// (variables set in the environment win over the file).
//
// One table in config.cc (after Redis's config.c) lists every variable:
// its name, default, meaning and parser. Parsing, every error message,
// `--help` and README's table all come from it. Every AUTH_* name the table
// does not know is an error (a typo must not pass silently), and every
// invalid variable is reported in one run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/cidr.h"
#include "core/listen_address.h"

namespace cpa {

enum class MailBackend { kFile, kSmtp };
enum class SmtpTls { kRequired, kOpportunistic };

struct Config {
  int http_port = 8080;
  std::string state_dir = "./var";
  std::string db_path;          // default $state_dir/auth.db
  // AUTH_DATABASE_URL: postgresql://... selects PostgreSQL; empty: SQLite at db_path.
  std::string database_url;
  std::string secret_key;       // AUTH_SECRET_KEY, or secret_key_file read (state/secret_key.h)
  std::string secret_key_file;  // $state_dir/secret.key
  int workers = 0;              // default: cores
  int hash_workers = 0;         // AUTH_HASH_WORKERS: the pool for hashing routes; = cores
  int64_t access_ttl = 3000;
  int64_t refresh_ttl = 86400;
  int64_t code_ttl = 600;
  MailBackend mail_backend = MailBackend::kFile;
  std::string mail_dir;         // default $state_dir/mail
  std::string smtp_url;
  std::string smtp_user;
  std::string smtp_password;
  std::optional<SmtpTls> smtp_tls;  // AUTH_SMTP_TLS; unset: by the relay's host
  int mail_connections = 4;         // AUTH_MAIL_CONNECTIONS: messages delivered at once
  // AUTH_MAIL_FROM as given ("no-reply@example.com" or "Name <addr>"), the
  // From header; mail_from_address is the bare address, the SMTP envelope's.
  std::string mail_from = "no-reply@localhost";
  std::string mail_from_address = "no-reply@localhost";
  int pbkdf2_iterations = 600000;
  int pin_iterations = 100000;  // AUTH_PIN_ITERATIONS: PINs use the same hasher
  bool throttle = true;
  bool set_password_requires_code = false;  // AUTH_SET_PASSWORD_REQUIRES_CODE (API.md §3)
  // AUTH_REFRESH_REUSE_GRACE (API.md §4): seconds after its rotation during
  // which a refresh token presented again is not theft. 0: never.
  int64_t refresh_reuse_grace = 0;
  // AUTH_PUBLIC_URL: scheme://host[:port] that absolute links (users/?limit=
  // next/previous) are built on; empty: the Host header only when it names
  // this machine (loopback), else nginx's server_name. Never any Host sent.
  std::string public_url;
  // AUTH_METRICS_ALLOW (API.md §8): the client addresses that may read
  // metrics/; every other client gets a 404. Empty: nobody.
  std::vector<Cidr> metrics_allow = {Cidr{.v6 = false, .network = {127, 0, 0, 1}, .prefix = 32}};
  // AUTH_CORS_ORIGINS (API.md §1): the browser origins `run`'s nginx lets
  // call the API, each exactly as a browser sends it in Origin; empty: no
  // CORS headers. The production site file lists its own (nginx/).
  std::vector<std::string> cors_origins;
  bool bench = false;           // AUTH_BENCH: `make bench` only

  // Not in the contract's table; for deployments and tests.
  // AUTH_SOCKET: where the main pool listens for nginx, default the unix
  // socket $state_dir/fcgi.sock; tcp:HOST:PORT for a node (listen_address.h).
  ListenAddress socket;
  // AUTH_HASH_SOCKET: the hashing pool's, default $state_dir/fcgi-hash.sock.
  ListenAddress hash_socket;
  std::string log_file;         // AUTH_LOG_FILE: default $state_dir/auth.log; "-": "" (stderr)
  std::string nginx_template;   // AUTH_NGINX_TEMPLATE: used by `run`
  std::string nginx_bin;        // AUTH_NGINX_BIN: default /usr/sbin/nginx
  // AUTH_SWAGGER_UI_DIR: the Swagger UI assets that `run` copies for its nginx
  // to serve under docs/assets/ (proc/docs_assets); default
  // third_party/swagger-ui of the source tree (scripts/install-swagger-ui.sh).
  std::string swagger_ui_dir;
  int db_busy_timeout_ms = 5000;  // AUTH_DB_BUSY_TIMEOUT_MS

  // Where the store connects: the PostgreSQL URL when there is one, else the
  // SQLite file.
  const std::string& database() const { return database_url.empty() ? db_path : database_url; }
  bool postgresql() const { return !database_url.empty(); }
  // database() fit for a log line or a message: a URL's password masked.
  std::string database_for_display() const;

  // Variables as read (environment over file), for rendering templates.
  std::map<std::string, std::string> raw;
};

using Environment = std::map<std::string, std::string>;

// Whether `location` is a PostgreSQL URL (postgresql:// or postgres://), as
// AUTH_DATABASE_URL and `migrate-data --to` take it, rather than a file path.
bool is_postgresql_url(const std::string& location);
// `text` fit for a log line or a message: a URL's password (user:PASSWORD@)
// and every password=... parameter masked as ***. Anything else unchanged.
std::string without_password(const std::string& text);

// One row of the configuration table, as --help and README show it.
struct ConfigVariable {
  const char* name;
  const char* default_text;  // as written in README ("—" when none)
  const char* meaning;
};

// Every variable, in the table's order.
std::span<const ConfigVariable> config_variables();
// The variables for --help: one block per variable.
std::string config_help();
// README's table (header and rows), from the same table.
std::string config_markdown_table();

// The process environment as a map.
Environment process_environment();

// Parses an env file (KEY=VALUE lines, '#' comments, optional `export `,
// optional single or double quotes). Returns false and sets *error on failure.
bool parse_env_file(const std::string& path, Environment* out, std::string* error);

// The variable naming the env file to read when --config is not given; set
// and empty, no file is read (tests). Outside AUTH_*: it is not a setting.
inline constexpr char kConfigFileVariable[] = "CRYPTOPAY_AUTH_CONFIG";

// The env file to read, and why.
struct ConfigFile {
  enum class Source { kNone, kOption, kVariable, kDefault };
  std::string path;  // empty: none
  Source source = Source::kNone;
};

// --config FILE (`option`, when not empty); else $CRYPTOPAY_AUTH_CONFIG;
// else `default_path` (kDefaultConfigFile, /etc/cryptopay-auth.env) when it
// exists, even unreadable: parse_env_file() then says why.
ConfigFile find_config_file(const std::string& option, const Environment& env,
                            const std::string& default_path);

// Builds and validates a Config. `file_env` holds the values of the env file.
// On failure *error holds every problem, one line each, each naming its variable.
std::optional<Config> load_config(const Environment& env, const Environment& file_env,
                                  std::string* error);

}  // namespace cpa
