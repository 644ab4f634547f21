// Sender: one thread with a Backend of its own (so one relay connection of
// its own, kept and reused across messages) that delivers one message at a
// time for the Mailer. The Mailer's thread gives a message to an idle sender
// and later collects the outcome from the Finished queue the senders share.
// A sender thread touches its backend and that queue only: no Store, no log.
//
// Its thread starts with every signal blocked, so that SIGTERM and the
// writer gate's SIGALRM reach the Mailer's thread, which waits for them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "mail/backend.h"
#include "mail/message.h"

namespace cpa::mail {

struct Finished {
  size_t sender = 0;  // which sender: it is idle again
  Delivery delivery;
};

// Outcomes from the sender threads to the Mailer's. fd() is readable while
// something may be waiting (poll it, then take()).
class FinishedQueue {
 public:
  FinishedQueue();
  ~FinishedQueue();
  FinishedQueue(const FinishedQueue&) = delete;
  FinishedQueue& operator=(const FinishedQueue&) = delete;

  void push(Finished finished);    // any thread
  std::vector<Finished> take();    // everything so far; never blocks
  int fd() const { return event_fd_; }

 private:
  std::mutex mu_;
  std::vector<Finished> items_;
  int event_fd_;
};

class Sender {
 public:
  Sender(size_t index, std::unique_ptr<Backend> backend, FinishedQueue& finished);
  // Waits for the message in hand, if any; a message given but not started
  // is dropped (the Mailer has not recorded it: it stays pending).
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Only while idle: the Mailer gives a sender one message at a time.
  void send(Message message);

 private:
  void run();

  const size_t index_;
  std::unique_ptr<Backend> backend_;
  FinishedQueue& finished_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Message> next_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace cpa::mail
