#include "proc/worker.h"

#include <fcgiapp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "api/context.h"
#include "api/dispatch.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/fcgi.h"
#include "http/render.h"
#include "proc/signals.h"
#include "store/store.h"

namespace cpa::proc {
namespace {

void log_request(const http::Request& req, int status, int64_t started_us) {
  double ms = static_cast<double>(monotonic_micros() - started_us) / 1000.0;
  char duration[32];
  snprintf(duration, sizeof duration, "%.3fms", ms);
  std::string line;
  line.reserve(160);
  line.append("rid=").append(req.request_id).append(" ").append(req.method).append(" ");
  // The path only: a query string could carry anything.
  line.append(req.path.substr(0, 200)).append(" ").append(std::to_string(status)).append(" ");
  line.append(duration).append(" addr=").append(req.remote_addr);
  log::info(line);
}

// Serves one accepted connection.
void serve(FCGX_Request& fcgi, int fd, api::Services& services, Rng& rng) {
  // libfcgi would close a preset descriptor on entry unless it believes the
  // connection is kept; the BEGIN_REQUEST record then sets the real flag.
  fcgi.ipcFd = fd;
  fcgi.keepConnection = 1;
  if (FCGX_Accept_r(&fcgi) < 0) return;  // protocol error: libfcgi closed it
  int64_t started = monotonic_micros();
  http::Request request;
  bool too_large = false;
  http::read_request(fcgi, rng, &request, &too_large);
  http::Response response = too_large ? http::render_error(Status::TooLarge())
                                      : api::dispatch(request, services);
  http::write_response(fcgi, request, response);
  // Once the request is read to its end, close at once: libfcgi's lingering
  // close (shutdown, then wait for nginx to close first) idles the worker for
  // a round trip on every request. An unread body keeps the lingering close.
  if (!too_large) fcgi.detached = http::read_to_end(fcgi) ? 1 : 0;
  FCGX_Finish_r(&fcgi);
  log_request(request, response.status, started);
}

}  // namespace

void run_worker(const Config& config, int listen_fd, int wake_fd, WorkerKind kind) {
  if (kind == WorkerKind::kHasher) {
    log::set_role("hasher");
    set_process_name("cpa-hasher");
  } else {
    log::set_role("worker");
    set_process_name("cpa-worker");
  }
  sigset_t wait_mask;
  install_stop_handler(&wait_mask);

  Result<std::unique_ptr<store::Store>> opened =
      store::Store::open(config.db_path, config.db_busy_timeout_ms);
  if (!opened.ok()) {
    log::error("cannot open the database: " + opened.status().reason());
    _exit(3);
  }
  std::unique_ptr<store::Store> store = std::move(opened.value());
  store->set_mail_queued_hook([wake_fd] {
    char byte = 1;
    ssize_t ignored = write(wake_fd, &byte, 1);  // EAGAIN: the mailer is already awake
    (void)ignored;
  });

  SystemClock clock;
  SystemRng rng;
  auth::Keys keys = auth::Keys::derive(config.secret_key);
  api::Services services{config, *store, clock, rng, keys};

  FCGX_Init();
  FCGX_Request fcgi;
  FCGX_InitRequest(&fcgi, listen_fd, 0);

  // EPOLLEXCLUSIVE: one idle worker wakes per connection, not the whole pool.
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.fd = listen_fd;
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
    log::error("epoll setup failed");
    _exit(3);
  }

  for (;;) {
    if (g_stop_requested) {
      // Serve what nginx already queued on the socket, then leave.
      for (;;) {
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) break;
        serve(fcgi, fd, services, rng);
      }
      _exit(0);
    }
    struct epoll_event out;
    int n = epoll_pwait(ep, &out, 1, -1, &wait_mask);
    if (n <= 0) continue;  // EINTR: a signal; the loop head looks at it
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // another worker took it
    serve(fcgi, fd, services, rng);
  }
}

}  // namespace cpa::proc
