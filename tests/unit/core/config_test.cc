#include "core/config.h"
#include "unit/scratch_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace cpa {
namespace {

namespace fs = std::filesystem;

Config load_ok(const Environment& env, const Environment& file_env = {}) {
  std::string error;
  std::optional<Config> c = load_config(env, file_env, &error);
  EXPECT_TRUE(c.has_value()) << error;
  return c ? *c : Config();
}

// The error of a config that must be refused; it must name `variable`.
std::string load_error(const Environment& env, const std::string& variable) {
  std::string error;
  std::optional<Config> c = load_config(env, {}, &error);
  EXPECT_FALSE(c.has_value()) << "accepted: " << variable;
  EXPECT_NE(error.find(variable), std::string::npos) << "error does not name " << variable << ": " << error;
  return error;
}

class TempDir : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-config"};  // first: removed last

  void SetUp() override {
    dir_ = scratch_.path();
  }
  std::string write_file(const std::string& name, const std::string& text) {
    return scratch_.write(name, text);
  }
  fs::path dir_;
};

// --- load_config: defaults

TEST(LoadConfig, Defaults) {
  Config c = load_ok({});
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.state_dir, "./var");
  EXPECT_EQ(c.db_path, "./var/auth.db");
  EXPECT_EQ(c.secret_key_file, "./var/secret.key");
  EXPECT_EQ(c.mail_dir, "./var/mail");
  EXPECT_EQ(c.socket, unix_listen_address("./var/fcgi.sock"));
  EXPECT_EQ(c.hash_socket, unix_listen_address("./var/fcgi-hash.sock"));
  EXPECT_EQ(c.log_file, "./var/auth.log");
  EXPECT_EQ(c.secret_key, "");
  EXPECT_EQ(c.access_ttl, 3000);
  EXPECT_EQ(c.refresh_ttl, 86400);
  EXPECT_EQ(c.code_ttl, 600);
  EXPECT_EQ(c.pbkdf2_iterations, 600000);
  EXPECT_EQ(c.pin_iterations, 100000);
  EXPECT_EQ(c.mail_backend, MailBackend::kFile);
  EXPECT_EQ(c.mail_from, "no-reply@localhost");
  EXPECT_TRUE(c.throttle);
  EXPECT_EQ(c.db_busy_timeout_ms, 5000);
  EXPECT_EQ(c.mail_connections, 4);
  unsigned cores = std::thread::hardware_concurrency();
  EXPECT_EQ(c.workers, static_cast<int>(cores ? cores : 1));
  EXPECT_GE(c.workers, 1);
}

TEST(LoadConfig, PathsFollowTheStateDir) {
  Config c = load_ok({{"AUTH_STATE_DIR", "/srv/auth/"}});
  EXPECT_EQ(c.state_dir, "/srv/auth");
  EXPECT_EQ(c.db_path, "/srv/auth/auth.db");
  EXPECT_EQ(c.secret_key_file, "/srv/auth/secret.key");
  EXPECT_EQ(c.mail_dir, "/srv/auth/mail");
  EXPECT_EQ(c.socket.path, "/srv/auth/fcgi.sock");
  EXPECT_EQ(c.log_file, "/srv/auth/auth.log");
}

TEST(LoadConfig, ExplicitPathsWinOverTheStateDir) {
  Config c = load_ok({{"AUTH_STATE_DIR", "/srv/auth"},
                      {"AUTH_DB_PATH", "/data/db.sqlite"},
                      {"AUTH_MAIL_DIR", "/data/mail"},
                      {"AUTH_SOCKET", "/run/auth.sock"},
                      {"AUTH_LOG_FILE", "/var/log/auth.log"}});
  EXPECT_EQ(c.db_path, "/data/db.sqlite");
  EXPECT_EQ(c.mail_dir, "/data/mail");
  EXPECT_EQ(c.socket.path, "/run/auth.sock");
  EXPECT_FALSE(c.socket.tcp());
  EXPECT_EQ(c.log_file, "/var/log/auth.log");
  EXPECT_EQ(c.secret_key_file, "/srv/auth/secret.key");
}

TEST(LoadConfig, LogFileDashMeansStderrOnly) {
  EXPECT_EQ(load_ok({{"AUTH_LOG_FILE", "-"}}).log_file, "");
  EXPECT_EQ(load_ok({}, {{"AUTH_LOG_FILE", "-"}}).log_file, "");
}

// --- load_config: each variable

TEST(LoadConfig, EachVariableIsParsed) {
  Config c = load_ok({{"AUTH_HTTP_PORT", "9090"},
                      {"AUTH_SECRET_KEY", "0123456789abcdef"},
                      {"AUTH_WORKERS", "3"},
                      {"AUTH_ACCESS_TTL", "60"},
                      {"AUTH_REFRESH_TTL", "120"},
                      {"AUTH_CODE_TTL", "30"},
                      {"AUTH_MAIL_BACKEND", "smtp"},
                      {"AUTH_SMTP_URL", "smtps://mail.example.com:465"},
                      {"AUTH_SMTP_USER", "mailer"},
                      {"AUTH_SMTP_PASSWORD", "p@ss"},
                      {"AUTH_MAIL_FROM", "no-reply@cryptopay.example"},
                      {"AUTH_PBKDF2_ITERATIONS", "1000"},
                      {"AUTH_PIN_ITERATIONS", "10"},
                      {"AUTH_THROTTLE", "off"},
                      {"AUTH_NGINX_TEMPLATE", "/etc/auth/nginx.conf.in"},
                      {"AUTH_NGINX_BIN", "/opt/nginx/sbin/nginx"},
                      {"AUTH_DB_BUSY_TIMEOUT_MS", "250"}});
  EXPECT_EQ(c.http_port, 9090);
  EXPECT_EQ(c.secret_key, "0123456789abcdef");
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.access_ttl, 60);
  EXPECT_EQ(c.refresh_ttl, 120);
  EXPECT_EQ(c.code_ttl, 30);
  EXPECT_EQ(c.mail_backend, MailBackend::kSmtp);
  EXPECT_EQ(c.smtp_url, "smtps://mail.example.com:465");
  EXPECT_EQ(c.smtp_user, "mailer");
  EXPECT_EQ(c.smtp_password, "p@ss");
  EXPECT_EQ(c.mail_from, "no-reply@cryptopay.example");
  EXPECT_EQ(c.pbkdf2_iterations, 1000);
  EXPECT_EQ(c.pin_iterations, 10);
  EXPECT_FALSE(c.throttle);
  EXPECT_EQ(c.nginx_template, "/etc/auth/nginx.conf.in");
  EXPECT_EQ(c.nginx_bin, "/opt/nginx/sbin/nginx");
  EXPECT_EQ(c.db_busy_timeout_ms, 250);
}

TEST(LoadConfig, ThrottleSpellings) {
  for (const char* on : {"on", "1", "true"}) EXPECT_TRUE(load_ok({{"AUTH_THROTTLE", on}}).throttle) << on;
  for (const char* off : {"off", "0", "false"})
    EXPECT_FALSE(load_ok({{"AUTH_THROTTLE", off}}).throttle) << off;
}

TEST(LoadConfig, SetPasswordRequiresCode) {
  EXPECT_FALSE(load_ok({}).set_password_requires_code);
  EXPECT_TRUE(load_ok({{"AUTH_SET_PASSWORD_REQUIRES_CODE", "on"}}).set_password_requires_code);
  EXPECT_FALSE(load_ok({{"AUTH_SET_PASSWORD_REQUIRES_CODE", "off"}}).set_password_requires_code);
  load_error({{"AUTH_SET_PASSWORD_REQUIRES_CODE", "yes please"}}, "AUTH_SET_PASSWORD_REQUIRES_CODE");
}

TEST(LoadConfig, RefreshReuseGrace) {
  EXPECT_EQ(load_ok({}).refresh_reuse_grace, 0);
  EXPECT_EQ(load_ok({{"AUTH_REFRESH_REUSE_GRACE", "0"}}).refresh_reuse_grace, 0);
  EXPECT_EQ(load_ok({{"AUTH_REFRESH_REUSE_GRACE", "10"}}).refresh_reuse_grace, 10);
  EXPECT_EQ(load_ok({{"AUTH_REFRESH_REUSE_GRACE", "3600"}}).refresh_reuse_grace, 3600);
  for (const char* bad : {"-1", "3601", "ten", "1.5", "10s"})
    load_error({{"AUTH_REFRESH_REUSE_GRACE", bad}}, "AUTH_REFRESH_REUSE_GRACE");
}

TEST(LoadConfig, PublicUrl) {
  EXPECT_EQ(load_ok({}).public_url, "");
  EXPECT_EQ(load_ok({{"AUTH_PUBLIC_URL", "https://auth.example.com/"}}).public_url,
            "https://auth.example.com");
  EXPECT_EQ(load_ok({{"AUTH_PUBLIC_URL", "http://10.0.0.2:8080"}}).public_url,
            "http://10.0.0.2:8080");
  for (const char* bad : {"auth.example.com", "ftp://auth.example.com", "https://",
                          "https://auth.example.com/api", "https://user@evil.example",
                          "https://a.example?x=1"}) {
    load_error({{"AUTH_PUBLIC_URL", bad}}, "AUTH_PUBLIC_URL");
  }
}

TEST(LoadConfig, MetricsAllow) {
  // The default: this host's IPv4 loopback only.
  Config c = load_ok({});
  ASSERT_EQ(c.metrics_allow.size(), 1u);
  EXPECT_EQ(c.metrics_allow[0].text(), "127.0.0.1/32");
  EXPECT_EQ(Config().metrics_allow[0].text(), "127.0.0.1/32");

  c = load_ok({{"AUTH_METRICS_ALLOW", " 10.0.0.0/8, ::1/128 ,192.0.2.7,0.0.0.0/0"}});
  ASSERT_EQ(c.metrics_allow.size(), 4u);
  EXPECT_EQ(c.metrics_allow[0].text(), "10.0.0.0/8");
  EXPECT_EQ(c.metrics_allow[1].text(), "::1/128");
  EXPECT_EQ(c.metrics_allow[2].text(), "192.0.2.7/32");
  EXPECT_EQ(c.metrics_allow[3].text(), "0.0.0.0/0");
  EXPECT_TRUE(load_ok({{"AUTH_METRICS_ALLOW", "none"}}).metrics_allow.empty());
}

TEST(LoadConfig, InvalidMetricsAllowNamesEveryBadItem) {
  std::string error = load_error(
      {{"AUTH_METRICS_ALLOW", "127.0.0.1/32,localhost,10.1.2.3/8,::1/200,,1.2.3.4"}},
      "AUTH_METRICS_ALLOW");
  EXPECT_NE(error.find("'localhost' is not an IPv4 or IPv6 address"), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean 10.0.0.0/8?"), std::string::npos) << error;
  EXPECT_NE(error.find("'::1/200': the prefix length must be 0 to 128"), std::string::npos)
      << error;
  EXPECT_NE(error.find("an empty item"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  load_error({{"AUTH_METRICS_ALLOW", "none,127.0.0.1"}}, "AUTH_METRICS_ALLOW");
}

TEST(LoadConfig, CorsOrigins) {
  EXPECT_TRUE(load_ok({}).cors_origins.empty());
  EXPECT_EQ(load_ok({{"AUTH_CORS_ORIGINS", "https://app.example.com,http://localhost:5173"}})
                .cors_origins,
            (std::vector<std::string>{"https://app.example.com", "http://localhost:5173"}));
  // Spaces around the commas are no part of an origin; a repeat is listed once.
  EXPECT_EQ(load_ok({{"AUTH_CORS_ORIGINS",
                      " http://127.0.0.1:8081 , http://[::1]:3000,http://127.0.0.1:8081"}})
                .cors_origins,
            (std::vector<std::string>{"http://127.0.0.1:8081", "http://[::1]:3000"}));
  EXPECT_EQ(load_ok({{"AUTH_CORS_ORIGINS", "https://app-1.example.co.uk:8443"}}).cors_origins,
            (std::vector<std::string>{"https://app-1.example.co.uk:8443"}));
  // Each refused origin could never equal an Origin header a browser sends.
  for (const char* bad : {"https://app.example.com/", "https://app.example.com/app",
                          "app.example.com", "ftp://app.example.com", "wss://app.example.com",
                          "https://", "https://:8080", "https://app..example.com",
                          "https://app.example.com.", "https://user@app.example.com",
                          "https://app.example.com?x=1", "https://app.example.com#top",
                          "https://app.example.com:0", "https://app.example.com:65536",
                          "https://app.example.com:08443", "https://app.example.com:",
                          "http://[::1", "https://app.example.com,", ",https://app.example.com",
                          "https://a.example.com,,https://b.example.com", "*", "null",
                          "https://*.example.com", "https://app example.com"}) {
    load_error({{"AUTH_CORS_ORIGINS", bad}}, "AUTH_CORS_ORIGINS");
  }
  // Written otherwise than a browser writes it: said so.
  std::string e =
      load_error({{"AUTH_CORS_ORIGINS", "https://App.Example.com"}}, "AUTH_CORS_ORIGINS");
  EXPECT_NE(e.find("'https://App.Example.com': the host must be in lower case"), std::string::npos)
      << e;
  e = load_error({{"AUTH_CORS_ORIGINS", "HTTPS://app.example.com"}}, "AUTH_CORS_ORIGINS");
  EXPECT_NE(e.find("expected http://host[:port] or https://host[:port]"), std::string::npos) << e;
  e = load_error({{"AUTH_CORS_ORIGINS", "https://a.example.com,https://b.example.com:443"}},
                 "AUTH_CORS_ORIGINS");
  EXPECT_NE(e.find("'https://b.example.com:443': leave out the scheme's default port, as browsers "
                   "do: https://b.example.com"),
            std::string::npos)
      << e;
  load_error({{"AUTH_CORS_ORIGINS", "http://localhost:80"}}, "AUTH_CORS_ORIGINS");
  e = load_error({{"AUTH_CORS_ORIGINS", "https://app.example.com/"}}, "AUTH_CORS_ORIGINS");
  EXPECT_NE(e.find("no trailing slash"), std::string::npos) << e;
}

TEST(LoadConfig, PortRange) {
  EXPECT_EQ(load_ok({{"AUTH_HTTP_PORT", "1"}}).http_port, 1);
  EXPECT_EQ(load_ok({{"AUTH_HTTP_PORT", "65535"}}).http_port, 65535);
}

TEST(LoadConfig, EmptyValueMeansUnset) {
  Config c = load_ok({{"AUTH_HTTP_PORT", ""}, {"AUTH_STATE_DIR", ""}, {"AUTH_THROTTLE", ""}});
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.state_dir, "./var");
  EXPECT_TRUE(c.throttle);
}

TEST(LoadConfig, RawKeepsOnlyAuthVariables) {
  Config c = load_ok({{"AUTH_HTTP_PORT", "9000"}, {"HOME", "/root"}, {"PATH", "/bin"}},
                     {{"AUTH_STATE_DIR", "/srv"}, {"OTHER", "x"}});
  EXPECT_EQ(c.raw.size(), 2u);
  EXPECT_EQ(c.raw["AUTH_HTTP_PORT"], "9000");
  EXPECT_EQ(c.raw["AUTH_STATE_DIR"], "/srv");
}

// --- load_config: invalid values name their variable

TEST(LoadConfig, InvalidPort) {
  for (const char* bad : {"abc", "0", "70000", "65536", "-1", "80x", " 80", "8080.0"})
    load_error({{"AUTH_HTTP_PORT", bad}}, "AUTH_HTTP_PORT");
  std::string e = load_error({{"AUTH_HTTP_PORT", "abc"}}, "AUTH_HTTP_PORT");
  EXPECT_NE(e.find("abc"), std::string::npos) << e;
}

TEST(LoadConfig, InvalidIntegers) {
  load_error({{"AUTH_WORKERS", "0"}}, "AUTH_WORKERS");
  load_error({{"AUTH_WORKERS", "257"}}, "AUTH_WORKERS");
  load_error({{"AUTH_ACCESS_TTL", "0"}}, "AUTH_ACCESS_TTL");
  load_error({{"AUTH_REFRESH_TTL", "ten"}}, "AUTH_REFRESH_TTL");
  load_error({{"AUTH_CODE_TTL", "604801"}}, "AUTH_CODE_TTL");
  load_error({{"AUTH_PBKDF2_ITERATIONS", "0"}}, "AUTH_PBKDF2_ITERATIONS");
  load_error({{"AUTH_PIN_ITERATIONS", "1e5"}}, "AUTH_PIN_ITERATIONS");
  load_error({{"AUTH_DB_BUSY_TIMEOUT_MS", "0"}}, "AUTH_DB_BUSY_TIMEOUT_MS");
  load_error({{"AUTH_HTTP_PORT", "99999999999999999999999"}}, "AUTH_HTTP_PORT");
}

TEST(LoadConfig, InvalidMailBackend) {
  std::string e = load_error({{"AUTH_MAIL_BACKEND", "pigeon"}}, "AUTH_MAIL_BACKEND");
  EXPECT_NE(e.find("pigeon"), std::string::npos) << e;
  load_error({{"AUTH_MAIL_BACKEND", "SMTP"}}, "AUTH_MAIL_BACKEND");
}

TEST(LoadConfig, SmtpNeedsAnSmtpUrl) {
  load_error({{"AUTH_MAIL_BACKEND", "smtp"}}, "AUTH_SMTP_URL");
  load_error({{"AUTH_MAIL_BACKEND", "smtp"}, {"AUTH_SMTP_URL", "http://x"}}, "AUTH_SMTP_URL");
  load_error({{"AUTH_MAIL_BACKEND", "smtp"}, {"AUTH_SMTP_URL", "smtp://"}}, "AUTH_SMTP_URL");
  load_error({{"AUTH_MAIL_BACKEND", "smtp"}, {"AUTH_SMTP_URL", "mail.example.com:25"}}, "AUTH_SMTP_URL");
  EXPECT_EQ(load_ok({{"AUTH_MAIL_BACKEND", "smtp"}, {"AUTH_SMTP_URL", "smtp://127.0.0.1:2525"}}).smtp_url,
            "smtp://127.0.0.1:2525");
  // An invalid URL is refused whatever the backend: it is a mistake either way.
  load_error({{"AUTH_SMTP_URL", "http://x"}}, "AUTH_SMTP_URL");
}

TEST(LoadConfig, MailConnections) {
  EXPECT_EQ(load_ok({{"AUTH_MAIL_CONNECTIONS", "1"}}).mail_connections, 1);
  EXPECT_EQ(load_ok({{"AUTH_MAIL_CONNECTIONS", "64"}}).mail_connections, 64);
  for (const char* bad : {"0", "65", "-1", "four", "4.5"}) {
    std::string e = load_error({{"AUTH_MAIL_CONNECTIONS", bad}}, "AUTH_MAIL_CONNECTIONS");
    EXPECT_NE(e.find("1 to 64"), std::string::npos) << e;
  }
}

TEST(LoadConfig, SmtpTls) {
  EXPECT_EQ(load_ok({}).smtp_tls, std::nullopt);  // by the relay's host: mail::smtp_tls_required
  EXPECT_EQ(load_ok({{"AUTH_SMTP_TLS", "required"}}).smtp_tls, SmtpTls::kRequired);
  EXPECT_EQ(load_ok({{"AUTH_SMTP_TLS", "opportunistic"}}).smtp_tls, SmtpTls::kOpportunistic);
  std::string e = load_error({{"AUTH_SMTP_TLS", "yes"}}, "AUTH_SMTP_TLS");
  EXPECT_NE(e.find("'yes'"), std::string::npos) << e;
  load_error({{"AUTH_SMTP_TLS", "Required"}}, "AUTH_SMTP_TLS");
}

TEST(LoadConfig, InvalidThrottle) {
  std::string e = load_error({{"AUTH_THROTTLE", "maybe"}}, "AUTH_THROTTLE");
  EXPECT_NE(e.find("maybe"), std::string::npos) << e;
}

TEST(LoadConfig, ShortSecretKey) {
  load_error({{"AUTH_SECRET_KEY", "short"}}, "AUTH_SECRET_KEY");
  load_error({{"AUTH_SECRET_KEY", std::string(15, 'k')}}, "AUTH_SECRET_KEY");
  EXPECT_EQ(load_ok({{"AUTH_SECRET_KEY", std::string(16, 'k')}}).secret_key, std::string(16, 'k'));
}

TEST(LoadConfig, ShortSecretKeyErrorDoesNotEchoTheKey) {
  std::string e = load_error({{"AUTH_SECRET_KEY", "hunter2hunter"}}, "AUTH_SECRET_KEY");
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(LoadConfig, InvalidMailFrom) {
  load_error({{"AUTH_MAIL_FROM", "nobody"}}, "AUTH_MAIL_FROM");
  load_error({{"AUTH_MAIL_FROM", "a@b.c\r\nBcc: x@y.z"}}, "AUTH_MAIL_FROM");
}

TEST(LoadConfig, SocketPathTooLong) {
  load_error({{"AUTH_SOCKET", "/" + std::string(120, 's')}}, "AUTH_SOCKET");
  load_error({{"AUTH_STATE_DIR", "/" + std::string(100, 'd')}}, "AUTH_SOCKET");
}

// A node behind an nginx on another host listens on TCP.
TEST(LoadConfig, SocketsMayBeTcpAddresses) {
  Config c = load_ok({{"AUTH_SOCKET", "tcp:10.0.0.11:9000"},
                      {"AUTH_HASH_SOCKET", "tcp:[fd00::11]:9001"}});
  EXPECT_TRUE(c.socket.tcp());
  EXPECT_EQ(c.socket.host, "10.0.0.11");
  EXPECT_EQ(c.socket.port, 9000);
  EXPECT_EQ(c.socket.text(), "tcp:10.0.0.11:9000");
  EXPECT_EQ(c.socket.nginx_server(), "10.0.0.11:9000");
  EXPECT_TRUE(c.hash_socket.ipv6());
  EXPECT_EQ(c.hash_socket.host, "fd00::11");
  EXPECT_EQ(c.hash_socket.text(), "tcp:[fd00::11]:9001");
  EXPECT_EQ(c.hash_socket.nginx_server(), "[fd00::11]:9001");
  // A unix path keeps nginx's unix: prefix.
  EXPECT_EQ(load_ok({}).socket.nginx_server(), "unix:./var/fcgi.sock");
}

TEST(LoadConfig, InvalidTcpAddressesAreRefusedByName) {
  for (const char* bad : {"tcp:localhost:9000", "tcp:10.0.0.11", "tcp:10.0.0.11:0",
                          "tcp:10.0.0.11:65536", "tcp:10.0.0.11:90x", "tcp:::1:9000",
                          "tcp:[::1]9000", "tcp:[::1:9000", "tcp:10.0.0.256:9000", "tcp:"}) {
    std::string error = load_error({{"AUTH_SOCKET", bad}}, "AUTH_SOCKET");
    EXPECT_NE(error.find("expected tcp:IPV4:PORT or tcp:[IPV6]:PORT"), std::string::npos)
        << bad << ": " << error;
    load_error({{"AUTH_HASH_SOCKET", bad}}, "AUTH_HASH_SOCKET");
  }
}

TEST(LoadConfig, ThePoolsNeedTwoAddresses) {
  std::string error = load_error(
      {{"AUTH_SOCKET", "tcp:127.0.0.1:9000"}, {"AUTH_HASH_SOCKET", "tcp:127.0.0.1:9000"}},
      "AUTH_HASH_SOCKET");
  EXPECT_NE(error.find("the same address as AUTH_SOCKET"), std::string::npos) << error;
  load_error({{"AUTH_SOCKET", "/run/a.sock"}, {"AUTH_HASH_SOCKET", "/run/a.sock"}},
             "AUTH_HASH_SOCKET");
  load_ok({{"AUTH_SOCKET", "tcp:127.0.0.1:9000"}, {"AUTH_HASH_SOCKET", "tcp:127.0.0.1:9001"}});
}

TEST(LoadConfig, EveryErrorIsReportedOneLineEach) {
  std::string error;
  EXPECT_FALSE(load_config({{"AUTH_HTTP_PORT", "abc"},
                            {"AUTH_THROTTLE", "maybe"},
                            {"AUTH_WORKRES", "8"},
                            {"AUTH_MAIL_BACKEND", "smtp"}},
                           {}, &error));
  EXPECT_EQ(error,
            "AUTH_WORKRES: unknown variable (did you mean AUTH_WORKERS?)\n"
            "AUTH_HTTP_PORT: expected an integer from 1 to 65535, got 'abc'\n"
            "AUTH_THROTTLE: expected 'on' or 'off', got 'maybe'\n"
            "AUTH_SMTP_URL: required when AUTH_MAIL_BACKEND=smtp");
}

// A typo must not pass silently (API.md §8).
TEST(LoadConfig, UnknownVariablesAreErrors) {
  std::string e = load_error({{"AUTH_WORKRES", "8"}}, "AUTH_WORKRES");
  EXPECT_NE(e.find("did you mean AUTH_WORKERS?"), std::string::npos) << e;
  e = load_error({{"AUTH_SOMETHING_ELSE_ENTIRELY", "1"}}, "AUTH_SOMETHING_ELSE_ENTIRELY");
  EXPECT_EQ(e.find("did you mean"), std::string::npos) << e;
  // From the env file too; other prefixes are not ours.
  std::string error;
  EXPECT_FALSE(load_config({}, {{"AUTH_THROTLE", "off"}}, &error));
  EXPECT_NE(error.find("AUTH_THROTLE: unknown variable (did you mean AUTH_THROTTLE?)"),
            std::string::npos)
      << error;
  load_ok({{"HOME", "/root"}, {"CPA_BINARY", "x"}});
}

TEST(LoadConfig, MailFromWithADisplayName) {
  Config c = load_ok({{"AUTH_MAIL_FROM", "CryptoPay <no-reply@example.com>"}});
  EXPECT_EQ(c.mail_from, "CryptoPay <no-reply@example.com>");
  EXPECT_EQ(c.mail_from_address, "no-reply@example.com");
  EXPECT_EQ(load_ok({}).mail_from_address, "no-reply@localhost");
  load_error({{"AUTH_MAIL_FROM", "CryptoPay <nobody>"}}, "AUTH_MAIL_FROM");
  load_error({{"AUTH_MAIL_FROM", "Cr\xc3\xa9" "dit <a@example.com>"}}, "AUTH_MAIL_FROM");
}

TEST(LoadConfig, SmtpUrlNeedsAHost) {
  for (const char* bad : {"smtp://", "smtps://", "smtp://:25", "smtp:///x"})
    load_error({{"AUTH_SMTP_URL", bad}}, "AUTH_SMTP_URL");
}

// README's table is the table (and so is --help): one source of truth.
TEST(ConfigTable, ReadmeShowsTheTable) {
  std::ifstream in(std::string(CPA_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const std::string table = config_markdown_table();
  EXPECT_NE(readme.find(table), std::string::npos)
      << "README's configuration table differs from the config table; it should read:\n"
      << table;
}

TEST(ConfigTable, HelpNamesEveryVariable) {
  const std::string help = config_help();
  for (const ConfigVariable& v : config_variables())
    EXPECT_NE(help.find(std::string("  ") + v.name + " (default: "), std::string::npos) << v.name;
}

// --- load_config: environment over file

TEST(LoadConfig, EnvironmentWinsOverTheConfigFile) {
  Environment file = {{"AUTH_HTTP_PORT", "9000"}, {"AUTH_STATE_DIR", "/from/file"}, {"AUTH_THROTTLE", "off"}};
  Config c = load_ok({{"AUTH_HTTP_PORT", "9100"}}, file);
  EXPECT_EQ(c.http_port, 9100);
  EXPECT_EQ(c.state_dir, "/from/file");
  EXPECT_EQ(c.db_path, "/from/file/auth.db");
  EXPECT_FALSE(c.throttle);
}

TEST(LoadConfig, InvalidValueInTheFileIsRefused) {
  std::string error;
  EXPECT_FALSE(load_config({}, {{"AUTH_MAIL_BACKEND", "pigeon"}}, &error));
  EXPECT_NE(error.find("AUTH_MAIL_BACKEND"), std::string::npos) << error;
  // ... unless the environment overrides it with a valid one.
  EXPECT_EQ(load_ok({{"AUTH_MAIL_BACKEND", "file"}}, {{"AUTH_MAIL_BACKEND", "pigeon"}}).mail_backend,
            MailBackend::kFile);
}

// --- parse_env_file

using ParseEnvFile = TempDir;

TEST_F(ParseEnvFile, CommentsExportAndQuotes) {
  std::string path = write_file("auth.env",
                                "# a comment\n"
                                "\n"
                                "   \t\n"
                                "  # an indented comment\n"
                                "export AUTH_HTTP_PORT=9000\n"
                                "AUTH_STATE_DIR=\"/srv/with space\"\n"
                                "AUTH_MAIL_FROM='a@b.example'\n"
                                "  AUTH_SMTP_USER = spaced  \r\n"
                                "AUTH_SMTP_PASSWORD=has=equals#and-hash\n"
                                "AUTH_EMPTY=\n"
                                "AUTH_ONE_QUOTE=\"\n"
                                "AUTH_MISMATCHED=\"x'\n"
                                "export   AUTH_WORKERS=4");
  Environment env;
  std::string error;
  ASSERT_TRUE(parse_env_file(path, &env, &error)) << error;
  EXPECT_EQ(env["AUTH_HTTP_PORT"], "9000");
  EXPECT_EQ(env["AUTH_STATE_DIR"], "/srv/with space");
  EXPECT_EQ(env["AUTH_MAIL_FROM"], "a@b.example");
  EXPECT_EQ(env["AUTH_SMTP_USER"], "spaced");
  EXPECT_EQ(env["AUTH_SMTP_PASSWORD"], "has=equals#and-hash");
  EXPECT_EQ(env["AUTH_EMPTY"], "");
  EXPECT_EQ(env["AUTH_ONE_QUOTE"], "\"");
  EXPECT_EQ(env["AUTH_MISMATCHED"], "\"x'");
  EXPECT_EQ(env["AUTH_WORKERS"], "4");
  EXPECT_EQ(env.size(), 9u);
}

TEST_F(ParseEnvFile, LaterLinesWin) {
  std::string path = write_file("auth.env", "AUTH_HTTP_PORT=1\nAUTH_HTTP_PORT=2\n");
  Environment env;
  std::string error;
  ASSERT_TRUE(parse_env_file(path, &env, &error)) << error;
  EXPECT_EQ(env["AUTH_HTTP_PORT"], "2");
}

TEST_F(ParseEnvFile, BadLineNamesFileAndLine) {
  std::string path = write_file("auth.env", "# header\nAUTH_HTTP_PORT=9000\nthis is not an assignment\n");
  Environment env;
  std::string error;
  EXPECT_FALSE(parse_env_file(path, &env, &error));
  EXPECT_NE(error.find(path + ":3"), std::string::npos) << error;
}

TEST_F(ParseEnvFile, EmptyKeyIsAnError) {
  std::string path = write_file("auth.env", "=value\n");
  Environment env;
  std::string error;
  EXPECT_FALSE(parse_env_file(path, &env, &error));
  EXPECT_NE(error.find(path + ":1"), std::string::npos) << error;
}

TEST(DatabaseUrl, PostgresqlUrlsAreToldFromPaths) {
  EXPECT_TRUE(is_postgresql_url("postgresql://auth@db.internal/auth"));
  EXPECT_TRUE(is_postgresql_url("postgres:///auth?host=/run/postgresql"));
  EXPECT_FALSE(is_postgresql_url("/var/lib/cryptopay-auth/auth.db"));
  EXPECT_FALSE(is_postgresql_url("mysql://auth@db/auth"));
  EXPECT_FALSE(is_postgresql_url("./postgresql://x"));
}

TEST(DatabaseUrl, PasswordsAreMaskedWhereverTheyAre) {
  EXPECT_EQ(without_password("postgresql://auth:s3cret@db:5432/auth?sslmode=require"),
            "postgresql://auth:***@db:5432/auth?sslmode=require");
  EXPECT_EQ(without_password("postgresql:///auth?user=auth&password=s3cret&host=/tmp"),
            "postgresql:///auth?user=auth&password=***&host=/tmp");
  EXPECT_EQ(without_password("--to=postgres://a:b@h/d"), "--to=postgres://a:***@h/d");
  // Nothing to mask: as it was.
  EXPECT_EQ(without_password("postgresql://auth@db:5432/auth"), "postgresql://auth@db:5432/auth");
  EXPECT_EQ(without_password("a:b@example.com"), "a:b@example.com");
  // The member masks the URL, and shows the SQLite path as it is.
  Config c;
  c.db_path = "/var/lib/cryptopay-auth/auth.db";
  EXPECT_EQ(c.database_for_display(), "/var/lib/cryptopay-auth/auth.db");
  c.database_url = "postgresql://auth:s3cret@db/auth";
  EXPECT_EQ(c.database_for_display(), "postgresql://auth:***@db/auth");
}

TEST_F(ParseEnvFile, MissingFile) {
  Environment env;
  std::string error;
  std::string path = (dir_ / "nope.env").string();
  EXPECT_FALSE(parse_env_file(path, &env, &error));
  // The file may come from --config, CRYPTOPAY_AUTH_CONFIG or the default:
  // the error names the file, whichever.
  EXPECT_NE(error.find("cannot read the env file " + path), std::string::npos) << error;
}

TEST_F(ParseEnvFile, FileFeedsLoadConfig) {
  std::string path = write_file("auth.env", "export AUTH_HTTP_PORT=9000\nAUTH_THROTTLE=off\n");
  Environment file_env;
  std::string error;
  ASSERT_TRUE(parse_env_file(path, &file_env, &error)) << error;
  Config c = load_ok({{"AUTH_THROTTLE", "on"}}, file_env);
  EXPECT_EQ(c.http_port, 9000);
  EXPECT_TRUE(c.throttle);
}

// --- find_config_file

using FindConfigFile = TempDir;

TEST_F(FindConfigFile, OptionThenVariableThenAnExistingDefault) {
  std::string fallback = write_file("default.env", "AUTH_WORKERS=3\n");
  ConfigFile f =
      find_config_file("/opt/given.env", {{kConfigFileVariable, "/opt/var.env"}}, fallback);
  EXPECT_EQ(f.path, "/opt/given.env");
  EXPECT_EQ(f.source, ConfigFile::Source::kOption);

  f = find_config_file("", {{kConfigFileVariable, "/opt/var.env"}}, fallback);
  EXPECT_EQ(f.path, "/opt/var.env");
  EXPECT_EQ(f.source, ConfigFile::Source::kVariable);

  f = find_config_file("", {}, fallback);
  EXPECT_EQ(f.path, fallback);
  EXPECT_EQ(f.source, ConfigFile::Source::kDefault);
}

TEST_F(FindConfigFile, EmptyVariableOrMissingDefaultMeansNoFile) {
  std::string fallback = write_file("default.env", "AUTH_WORKERS=3\n");
  ConfigFile f = find_config_file("", {{kConfigFileVariable, ""}}, fallback);
  EXPECT_EQ(f.path, "");
  EXPECT_EQ(f.source, ConfigFile::Source::kNone);

  f = find_config_file("", {}, (dir_ / "missing.env").string());
  EXPECT_EQ(f.path, "");
  EXPECT_EQ(f.source, ConfigFile::Source::kNone);
}

TEST_F(FindConfigFile, ADefaultThatCannotBeReadIsStillChosenSoItsErrorIsSeen) {
  // Skipping it would run with other settings (./var) without a word.
  std::string fallback = write_file("default.env", "AUTH_WORKERS=3\n");
  ASSERT_EQ(chmod(fallback.c_str(), 0), 0);
  EXPECT_EQ(find_config_file("", {}, fallback).path, fallback);
  Environment env;
  std::string error;
  EXPECT_FALSE(parse_env_file((dir_ / "missing.env").string(), &env, &error));
  EXPECT_NE(error.find("cannot read the env file " + (dir_ / "missing.env").string()),
            std::string::npos) << error;
}

}  // namespace
}  // namespace cpa
