#include "mail/sender.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace cpa::mail {

FinishedQueue::FinishedQueue() : event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (event_fd_ < 0) {
    // Without it the Mailer could not learn that a message was delivered.
    perror("fatal: eventfd");
    abort();
  }
}

FinishedQueue::~FinishedQueue() { close(event_fd_); }

void FinishedQueue::push(Finished finished) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(finished));
  }
  uint64_t one = 1;
  ssize_t ignored = write(event_fd_, &one, sizeof one);  // only fails when the counter is full
  (void)ignored;
}

std::vector<Finished> FinishedQueue::take() {
  // Reset the counter first: a push after this makes fd() readable again, so
  // nothing pushed is ever left unseen (at worst one wake-up finds nothing).
  uint64_t count = 0;
  ssize_t ignored = read(event_fd_, &count, sizeof count);
  (void)ignored;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Finished> out;
  out.swap(items_);
  return out;
}

Sender::Sender(size_t index, std::unique_ptr<Backend> backend, FinishedQueue& finished)
    : index_(index), backend_(std::move(backend)), finished_(finished) {
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

Sender::~Sender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Sender::send(Message message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_ = std::move(message);
  }
  cv_.notify_one();
}

void Sender::run() {
  for (;;) {
    Message message;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return next_.has_value() || quit_; });
      if (quit_) return;
      message = std::move(*next_);
      next_.reset();
    }
    Delivery delivery = backend_->deliver(message);
    finished_.push(Finished{index_, std::move(delivery)});
  }
}

}  // namespace cpa::mail
