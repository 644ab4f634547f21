#include "proc/upgrade.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace cpa::proc {
namespace {

Handover a_handover() {
  Handover h;
  h.socket_fd = 3;
  h.hash_socket_fd = 4;
  h.wake_read_fd = 5;
  h.wake_write_fd = 6;
  h.metrics_fd = 7;
  h.exe_fd = 8;
  h.children = {{"worker", 120}, {"hasher", 121}, {"mailer", 122}, {"nginx", 123}};
  return h;
}

TEST(Handover, WhatIsEncodedParsesBack) {
  Handover h = a_handover();
  EXPECT_EQ(encode_descriptors(h), "socket=3,hash_socket=4,wake=5:6,metrics=7,exe=8");
  EXPECT_EQ(encode_children(h), "worker=120,hasher=121,mailer=122,nginx=123");
  Handover back;
  std::string error;
  ASSERT_TRUE(parse_handover(encode_descriptors(h), encode_children(h), &back, &error)) << error;
  EXPECT_EQ(back.socket_fd, 3);
  EXPECT_EQ(back.hash_socket_fd, 4);
  EXPECT_EQ(back.wake_read_fd, 5);
  EXPECT_EQ(back.wake_write_fd, 6);
  EXPECT_EQ(back.metrics_fd, 7);
  EXPECT_EQ(back.exe_fd, 8);
  EXPECT_EQ(back.report_fd, -1);
  EXPECT_FALSE(back.rehearsal());
  ASSERT_EQ(back.children.size(), 4u);
  EXPECT_EQ(back.children[2].role, "mailer");
  EXPECT_EQ(back.children[2].pid, 122);
}

TEST(Handover, AReportDescriptorMakesARehearsal) {
  Handover h = a_handover();
  h.report_fd = 9;
  h.children.clear();
  Handover back;
  std::string error;
  ASSERT_TRUE(parse_handover(encode_descriptors(h), "", &back, &error)) << error;
  EXPECT_TRUE(back.rehearsal());
  EXPECT_EQ(back.report_fd, 9);
  EXPECT_TRUE(back.children.empty());
}

TEST(Handover, ItsDescriptorsAreTheOpenOnesItNames) {
  Handover h = a_handover();
  EXPECT_EQ(h.descriptors(), (std::vector<int>{3, 4, 5, 6, 7, 8}));
  h.report_fd = 9;
  h.metrics_fd = -1;
  EXPECT_EQ(h.descriptors(), (std::vector<int>{3, 4, 5, 6, 8, 9}));
}

TEST(Handover, AnythingElseIsRefusedNamingIt) {
  const char* kBad[] = {
      "",                                           // nothing: socket etc. required
      "socket=3,hash_socket=4",                     // no wake pipe
      "socket=3,hash_socket=4,wake=5",              // one end
      "socket=1,hash_socket=4,wake=5:6",            // stdout is never handed over
      "socket=3,hash_socket=4,wake=5:6,metrics=x",  // not a number
      "socket=3,hash_socket=4,wake=5:6,metrics=7 ", // trailing space
      "socket=3,hash_socket=4,wake=5:6,listen=9",   // unknown name
      "socket=3,hash_socket=4,wake=5:6,",           // empty item
  };
  for (const char* text : kBad) {
    Handover h;
    std::string error;
    EXPECT_FALSE(parse_handover(text, "", &h, &error)) << text;
    EXPECT_NE(error.find("CRYPTOPAY_AUTH_INHERIT"), std::string::npos) << text << ": " << error;
  }
  for (const char* children : {"worker", "worker=0", "worker=-5", "poller=12", "worker=12,"}) {
    Handover h;
    std::string error;
    EXPECT_FALSE(parse_handover("socket=3,hash_socket=4,wake=5:6", children, &h, &error))
        << children;
    EXPECT_NE(error.find("CRYPTOPAY_AUTH_CHILDREN"), std::string::npos) << children;
  }
}

TEST(Handover, TakenFromTheEnvironmentAndRemovedFromIt) {
  setenv(kInheritVariable, "socket=3,hash_socket=4,wake=5:6", 1);
  setenv(kChildrenVariable, "mailer=77", 1);
  std::string error;
  std::optional<Handover> h = take_handover(&error);
  ASSERT_TRUE(h) << error;
  EXPECT_EQ(h->children.size(), 1u);
  EXPECT_EQ(getenv(kInheritVariable), nullptr);
  EXPECT_EQ(getenv(kChildrenVariable), nullptr);
  // None: an ordinary start.
  EXPECT_FALSE(take_handover(&error));
  // Malformed: refused with a reason, never taken for an ordinary start.
  setenv(kInheritVariable, "socket=3", 1);
  error.clear();
  EXPECT_FALSE(take_handover(&error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(getenv(kInheritVariable), nullptr);
}

TEST(Handover, TheNewEnvironmentReplacesAnEarlierHandover) {
  setenv(kInheritVariable, "socket=30,hash_socket=40,wake=50:60", 1);
  setenv("CPA_UPGRADE_TEST_KEPT", "yes", 1);
  std::vector<std::string> env = handover_environment(a_handover());
  unsetenv(kInheritVariable);
  unsetenv("CPA_UPGRADE_TEST_KEPT");
  int inherit = 0, children = 0, kept = 0;
  for (const std::string& e : env) {
    if (e.rfind("CRYPTOPAY_AUTH_INHERIT=", 0) == 0) {
      ++inherit;
      EXPECT_EQ(e, "CRYPTOPAY_AUTH_INHERIT=socket=3,hash_socket=4,wake=5:6,metrics=7,exe=8");
    }
    if (e.rfind("CRYPTOPAY_AUTH_CHILDREN=", 0) == 0) ++children;
    if (e == "CPA_UPGRADE_TEST_KEPT=yes") ++kept;
  }
  EXPECT_EQ(inherit, 1);
  EXPECT_EQ(children, 1);
  EXPECT_EQ(kept, 1);
}

TEST(Handover, OnlyAListeningSocketOnTheConfiguredPathIsAdopted) {
  char dir[] = "/tmp/cpa-upgrade-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/fcgi.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string error;
  const ListenAddress address = unix_listen_address(path);
  EXPECT_FALSE(is_listening_socket_on(fd, address, &error));  // bound, not listening yet
  EXPECT_NE(error.find("not a listening"), std::string::npos) << error;
  ASSERT_EQ(listen(fd, 8), 0);
  EXPECT_TRUE(is_listening_socket_on(fd, address, &error)) << error;
  EXPECT_FALSE(is_listening_socket_on(fd, unix_listen_address(std::string(dir) + "/other.sock"),
                                      &error));
  EXPECT_NE(error.find("takes a restart"), std::string::npos) << error;
  EXPECT_FALSE(is_listening_socket_on(fd, tcp_listen_address("127.0.0.1", 9000), &error));
  EXPECT_NE(error.find("not an IPv4 TCP socket"), std::string::npos) << error;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  EXPECT_FALSE(is_listening_socket_on(pipe_fds[0], address, &error));
  EXPECT_NE(error.find("not a unix socket"), std::string::npos) << error;
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  close(fd);
  unlink(path.c_str());
  rmdir(dir);
}

// A node's TCP port is handed over like a unix path: the very address and
// port the configuration names, listening.
TEST(Handover, OnlyAListeningTcpSocketOnTheConfiguredAddressIsAdopted) {
  std::string error;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // port 0: a free one
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const ListenAddress address = tcp_listen_address("127.0.0.1", port);
  EXPECT_FALSE(is_listening_socket_on(fd, address, &error));  // bound, not listening yet
  EXPECT_NE(error.find("not a listening"), std::string::npos) << error;
  ASSERT_EQ(listen(fd, 8), 0);
  EXPECT_TRUE(is_listening_socket_on(fd, address, &error)) << error;
  EXPECT_FALSE(is_listening_socket_on(fd, tcp_listen_address("127.0.0.1", port + 1), &error));
  EXPECT_NE(error.find("listens on tcp:127.0.0.1:" + std::to_string(port) +
                       ", the configuration says tcp:127.0.0.1:" + std::to_string(port + 1)),
            std::string::npos)
      << error;
  EXPECT_FALSE(is_listening_socket_on(fd, tcp_listen_address("127.0.0.2", port), &error));
  EXPECT_NE(error.find("takes a restart"), std::string::npos) << error;
  EXPECT_FALSE(is_listening_socket_on(fd, tcp_listen_address("::1", port), &error));
  EXPECT_NE(error.find("not an IPv6 TCP socket"), std::string::npos) << error;
  EXPECT_FALSE(is_listening_socket_on(fd, unix_listen_address("/tmp/x.sock"), &error));
  EXPECT_NE(error.find("not a unix socket"), std::string::npos) << error;
  close(fd);
}

}  // namespace
}  // namespace cpa::proc
