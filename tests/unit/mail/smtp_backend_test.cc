// The SMTP backend against a real SMTP server: tests/e2e/smtp_sink.py
// (aiosmtpd), started for each test on a free port and stopped after it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "mail/backend.h"
#include "mail/message.h"
#include "unit/scratch_dir.h"

namespace cpa::mail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> eml_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".eml") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class SmtpBackendTest : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-smtp-backend"};  // first: removed last

  void SetUp() override {
    root_ = scratch_.path();
    spool_ = root_ / "spool";
    refuse_ = root_ / "refuse";
    ASSERT_NO_FATAL_FAILURE(start_sink());
  }

  void TearDown() override {
    stop_sink();
  }

  void start_sink() {
    std::string script = std::string(CPA_SOURCE_DIR) + "/tests/e2e/smtp_sink.py";
    std::vector<std::string> args = {
        kPython,         script,           "--port",        "0",
        "--host",        "127.0.0.1",      "--dir",         spool_.string(),
        "--refuse-file", refuse_.string(), "--reject-rcpt", "@rejected.example"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    pid_t parent = getpid();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // The sink must not outlive a test binary that crashes.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      dup2(fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy
      execv(kPython, argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];

    // Wait for "READY <port>\n".
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      ASSERT_GT(left.count(), 0) << "the sink did not say READY; got '" << line << "'";
      struct pollfd p = {out_fd_, POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      ASSERT_GE(n, 0);
      if (n == 0) continue;
      char buf[64];
      ssize_t got = read(out_fd_, buf, sizeof buf);
      ASSERT_GT(got, 0) << "the sink exited before READY (is python3-aiosmtpd installed?)";
      line.append(buf, static_cast<size_t>(got));
    }
    ASSERT_EQ(line.rfind("READY ", 0), 0u) << line;
    port_ = std::atoi(line.c_str() + 6);
    ASSERT_GT(port_, 0) << line;
  }

  void stop_sink() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      bool reaped = false;
      for (int i = 0; i < 100 && !reaped; ++i) {  // up to 5 s
        reaped = waitpid(pid_, &status, WNOHANG) == pid_;
        if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (!reaped) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        ADD_FAILURE() << "the sink ignored SIGTERM";
      } else {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << "the sink did not exit cleanly, status " << status;
      }
      pid_ = -1;
    }
    if (out_fd_ >= 0) close(out_fd_);
    out_fd_ = -1;
  }

  Config smtp_config(int port) const {
    Config c;
    c.mail_backend = MailBackend::kSmtp;
    c.smtp_url = "smtp://127.0.0.1:" + std::to_string(port);
    return c;
  }

  static Message message(int64_t id, std::string to, std::string code) {
    Message m;
    m.id = id;
    m.from = "no-reply@cryptopay.example";
    m.to = std::move(to);
    m.subject = "Confirm your email address";
    m.body = "Hello,\n\nYour code:\n\n" + code + "\n\nCryptoPay\n";
    m.created_at = 1795000000 + id;
    return m;
  }

  fs::path root_, spool_, refuse_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
};

TEST_F(SmtpBackendTest, DeliversMessagesToARealRelay) {
  std::unique_ptr<Backend> backend = make_backend(smtp_config(port_));
  Message first = message(1, "alice@example.com", "123456");
  Message second = message(2, "bob@example.org", "654321");
  // Lines that SMTP itself would read as the end of the data, or dot-stuff.
  second.body += ".\n..\n.leading dot\n";

  Delivery d1 = backend->deliver(first);
  EXPECT_EQ(d1.outcome, Delivery::Outcome::kSent) << d1.error;
  Delivery d2 = backend->deliver(second);  // over the same handle (and connection)
  EXPECT_EQ(d2.outcome, Delivery::Outcome::kSent) << d2.error;

  ASSERT_EQ(eml_files(spool_), (std::vector<std::string>{"000001.eml", "000002.eml"}));
  // The relay received exactly the formatted bytes: curl's dot-stuffing and
  // the server's un-stuffing cancel out.
  std::string got1 = slurp(spool_ / "000001.eml");
  std::string got2 = slurp(spool_ / "000002.eml");
  EXPECT_EQ(got1, format_rfc5322(first));
  EXPECT_EQ(got2, format_rfc5322(second));
  EXPECT_NE(got1.find("\r\n123456\r\n"), std::string::npos);
  EXPECT_NE(got2.find("\r\n654321\r\n"), std::string::npos);

  std::vector<std::string> index = lines_of(slurp(spool_ / "index.jsonl"));
  ASSERT_EQ(index.size(), 2u);
  EXPECT_NE(index[0].find("\"seq\": 1"), std::string::npos) << index[0];
  EXPECT_NE(index[0].find("\"mail_from\": \"no-reply@cryptopay.example\""), std::string::npos)
      << index[0];
  EXPECT_NE(index[0].find("\"rcpt_tos\": [\"alice@example.com\"]"), std::string::npos) << index[0];
  EXPECT_NE(index[0].find("\"subject\": \"Confirm your email address\""), std::string::npos)
      << index[0];
  EXPECT_NE(index[1].find("\"rcpt_tos\": [\"bob@example.org\"]"), std::string::npos) << index[1];
}

TEST_F(SmtpBackendTest, NothingListeningIsRetried) {
  // A port that is bound but not listening refuses connections, and stays
  // ours for the length of the test.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int dead_port = ntohs(addr.sin_port);

  std::unique_ptr<Backend> backend = make_backend(smtp_config(dead_port));
  Delivery d = backend->deliver(message(1, "alice@example.com", "123456"));
  close(fd);
  EXPECT_EQ(d.outcome, Delivery::Outcome::kRetry);
  EXPECT_FALSE(d.error.empty());
  EXPECT_EQ(d.error.find("123456"), std::string::npos) << d.error;
}

TEST_F(SmtpBackendTest, TemporaryRefusalIsRetriedThenSucceeds) {
  std::unique_ptr<Backend> backend = make_backend(smtp_config(port_));
  std::ofstream(refuse_) << "";
  Delivery d = backend->deliver(message(1, "alice@example.com", "123456"));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kRetry);
  EXPECT_NE(d.error.find("451"), std::string::npos) << d.error;
  EXPECT_EQ(d.error.find("123456"), std::string::npos) << d.error;
  EXPECT_TRUE(eml_files(spool_).empty());

  // The relay recovers; the same backend delivers.
  fs::remove(refuse_);
  Delivery again = backend->deliver(message(1, "alice@example.com", "123456"));
  EXPECT_EQ(again.outcome, Delivery::Outcome::kSent) << again.error;
  EXPECT_EQ(eml_files(spool_), std::vector<std::string>{"000001.eml"});
}

TEST_F(SmtpBackendTest, PermanentRefusalIsPermanent) {
  std::unique_ptr<Backend> backend = make_backend(smtp_config(port_));
  Delivery d = backend->deliver(message(1, "nobody@rejected.example", "123456"));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kPermanent);
  EXPECT_NE(d.error.find("550"), std::string::npos) << d.error;
  EXPECT_EQ(d.error.find("nobody"), std::string::npos) << d.error;

  // The next message on the same handle is unaffected.
  Delivery ok = backend->deliver(message(2, "alice@example.com", "123456"));
  EXPECT_EQ(ok.outcome, Delivery::Outcome::kSent) << ok.error;
}

// The sink offers no STARTTLS: a backend that requires TLS must not send
// in clear; one that takes TLS only when offered goes on.
TEST_F(SmtpBackendTest, RequiredTlsRefusesARelayWithoutStarttls) {
  Config required = smtp_config(port_);
  required.smtp_tls = SmtpTls::kRequired;
  Delivery d = make_backend(required)->deliver(message(1, "alice@example.com", "123456"));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kRetry);
  EXPECT_NE(d.error.find("SSL"), std::string::npos) << d.error;
  EXPECT_TRUE(eml_files(spool_).empty());

  // "localhost" is loopback: opportunistic by default.
  Config local = smtp_config(port_);
  local.smtp_url = "smtp://localhost:" + std::to_string(port_);
  Delivery ok = make_backend(local)->deliver(message(2, "alice@example.com", "123456"));
  EXPECT_EQ(ok.outcome, Delivery::Outcome::kSent) << ok.error;
  EXPECT_EQ(eml_files(spool_), std::vector<std::string>{"000001.eml"});
}

TEST(SmtpTls, RequiredUnlessTheRelayIsOnLoopbackOrSetOtherwise) {
  auto required = [](const std::string& url, std::optional<SmtpTls> setting = std::nullopt,
                     const std::string& user = "") {
    Config c;
    c.mail_backend = MailBackend::kSmtp;
    c.smtp_url = url;
    c.smtp_tls = setting;
    c.smtp_user = user;
    return smtp_tls_required(c);
  };
  for (const char* url : {"smtp://127.0.0.1:2525", "smtp://127.8.9.10", "smtp://localhost:25",
                          "smtp://LocalHost", "smtp://[::1]:25", "smtp://[::ffff:127.0.0.1]:25",
                          "smtp://user@127.0.0.1:25/", "SMTP://127.0.0.1"})
    EXPECT_FALSE(required(url)) << url;
  for (const char* url : {"smtp://mail.example.com:587", "smtp://128.0.0.1", "smtp://10.0.0.1:25",
                          "smtp://localhost.example.com", "smtp://127.0.0.1.example.com",
                          "smtp://[::2]:25", "smtp://[2001:db8::1]", "smtp://0.0.0.0",
                          "smtp://127.0.0.1@mail.example.com", "smtp://"})
    EXPECT_TRUE(required(url)) << url;
  // The setting wins over the host...
  EXPECT_TRUE(required("smtp://127.0.0.1:25", SmtpTls::kRequired));
  EXPECT_FALSE(required("smtp://mail.example.com:587", SmtpTls::kOpportunistic));
  // ... except that smtps:// and a relay login always need TLS.
  EXPECT_TRUE(required("smtps://127.0.0.1:465", SmtpTls::kOpportunistic));
  EXPECT_TRUE(required("smtp://127.0.0.1:25", SmtpTls::kOpportunistic, "mailer"));
  EXPECT_TRUE(required("smtp://localhost:25", std::nullopt, "mailer"));
}

TEST_F(SmtpBackendTest, AddressesThatWouldBreakTheCommandLineAreRefused) {
  std::unique_ptr<Backend> backend = make_backend(smtp_config(port_));
  Delivery d = backend->deliver(message(1, "alice@example.com>\r\nRCPT TO:<x@y.z", "123456"));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kPermanent);
  EXPECT_TRUE(eml_files(spool_).empty());
}

}  // namespace
}  // namespace cpa::mail
