// Connections over a real unix listening socket, as a worker has it: the
// order in which kept connections and new ones get their turn.
#include "proc/connections.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "unit/scratch_dir.h"

namespace cpa::proc {
namespace {

class ConnectionsTest : public ::testing::Test {
 protected:
  cpa::testing::ScratchDir scratch_{"cpa-conns"};

  void SetUp() override {
    path_ = (scratch_.path() / "pool.sock").string();
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_un addr = address();
    ASSERT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listen_fd_, 16), 0);
    conns_ = std::make_unique<Connections>(listen_fd_, false);
    ASSERT_TRUE(conns_->ok());
  }

  void TearDown() override {
    conns_.reset();
    for (int fd : open_) close(fd);
    close(listen_fd_);
  }

  sockaddr_un address() const {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    return addr;
  }

  // nginx's side of a new connection.
  int dial() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = address();
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    open_.insert(fd);
    return fd;
  }

  // The worker's side: what wait() returned, its request read, kept.
  int serve_and_keep(int fd) {
    EXPECT_GE(fd, 0);
    if (fd < 0) return fd;
    open_.insert(fd);
    char buf[64];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    conns_->keep(fd);
    return fd;
  }

  // A kept connection, accepted and served once.
  std::pair<int, int> kept_pair() {
    int client = dial();
    EXPECT_EQ(send(client, "r", 1, 0), 1);
    int server = serve_and_keep(conns_->wait(nullptr, 1000));
    return {client, server};
  }

  std::string path_;
  int listen_fd_ = -1;
  std::unique_ptr<Connections> conns_;
  std::set<int> open_;  // both sides, closed at the end
};

TEST_F(ConnectionsTest, ANewConnectionGetsItsTurnWhileAKeptOneIsAlwaysBusy) {
  auto [busy_client, busy_server] = kept_pair();
  ASSERT_EQ(send(busy_client, "r", 1, 0), 1);
  int newcomer = dial();
  ASSERT_EQ(send(newcomer, "r", 1, 0), 1);
  // The kept connection has its next request ready every time the worker
  // looks: the new one must still be taken, not left in the backlog.
  bool accepted = false;
  for (int round = 0; round < 3 && !accepted; ++round) {
    int fd = conns_->wait(nullptr, 1000);
    ASSERT_GE(fd, 0);
    accepted = fd != busy_server;
    serve_and_keep(fd);
    ASSERT_EQ(send(busy_client, "r", 1, 0), 1);
  }
  EXPECT_TRUE(accepted) << "the new connection waited behind a busy kept one";
  EXPECT_EQ(conns_->kept(), 2);
}

TEST_F(ConnectionsTest, KeptConnectionsAreServedInTheOrderTheirRequestsCame) {
  std::vector<std::pair<int, int>> kept;
  for (int i = 0; i < 4; ++i) kept.push_back(kept_pair());
  ASSERT_EQ(conns_->kept(), 4);
  std::vector<int> sent;
  for (int i : {2, 0, 3, 1}) {
    ASSERT_EQ(send(kept[i].first, "r", 1, 0), 1);
    sent.push_back(kept[i].second);
  }
  std::vector<int> served;
  for (size_t i = 0; i < sent.size(); ++i)
    served.push_back(serve_and_keep(conns_->wait(nullptr, 1000)));
  EXPECT_EQ(served, sent);
}

TEST_F(ConnectionsTest, NothingToDoTimesOut) {
  kept_pair();
  EXPECT_EQ(conns_->wait(nullptr, 10), -1);
  EXPECT_EQ(conns_->next_ready(), -1);
}

TEST_F(ConnectionsTest, AfterStopAcceptingOnlyKeptConnectionsAreServed) {
  auto [client, server] = kept_pair();
  conns_->stop_accepting();
  dial();
  ASSERT_EQ(send(client, "r", 1, 0), 1);
  EXPECT_EQ(serve_and_keep(conns_->wait(nullptr, 1000)), server);
  EXPECT_EQ(conns_->wait(nullptr, 10), -1) << "a new connection was taken while draining";
}

}  // namespace
}  // namespace cpa::proc
