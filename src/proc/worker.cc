#include "proc/worker.h"

#include <fcgiapp.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "api/context.h"
#include "api/dispatch.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/fcgi.h"
#include "http/render.h"
#include "metrics/counters.h"
#include "proc/signals.h"
#include "proc/title.h"
#include "store/store.h"

namespace cpa::proc {
namespace {

// `group`: how many requests shared this one's commit (shown when over 1).
void log_request(const http::Request& req, int status, int64_t micros, int group) {
  double ms = static_cast<double>(micros) / 1000.0;
  char duration[32];
  snprintf(duration, sizeof duration, "%.3fms", ms);
  std::string line;
  line.reserve(160);
  // The request id is nginx's (its access log line starts with the same),
  // sanitized already (is_sane_request_id) and escaped all the same, as is
  // the rest, what the client sent: nginx hands the path over %-decoded.
  line.append("rid=").append(log::escape(req.request_id)).append(" ");
  line.append(log::escape(req.method)).append(" ");
  // The path only: a query string could carry anything.
  line.append(log::escape(req.path.substr(0, 200))).append(" ").append(std::to_string(status));
  line.append(" ").append(duration).append(" addr=").append(log::escape(req.remote_addr));
  if (group > 1) line.append(" group=").append(std::to_string(group));
  log::info(line);
}

// One accepted FastCGI connection: its libfcgi request, what it asks and
// what it will be answered.
struct Exchange {
  FCGX_Request fcgi;
  http::Request request;
  api::RouteMatch match;  // the request's route, looked up once
  size_t route_slot = 0;  // its place in the metrics counters
  metrics::Tally tally;   // what it did, counted once it is answered
  http::Response response;
  bool too_large = false;
  int64_t started_us = 0;
};

// A group commit takes at most this many requests: enough to share one fsync
// widely, few enough that the writer lock is never held for long.
constexpr int kMaxGroup = 16;

// The next connection queued on `listen_fd`, or -1 when none is (the socket
// is non-blocking). Over TCP (a node behind another host's nginx), Nagle's
// algorithm would hold an answer's last small record back until nginx
// acknowledges the one before: TCP_NODELAY sends each at once.
int accept_connection(int listen_fd, bool tcp) {
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0 && tcp) {
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  return fd;
}

// Takes the connection `fd` into `ex` and reads its request; false on a
// protocol error or a cut body (the connection is closed then).
bool receive(Exchange& ex, int fd, Rng& rng) {
  // libfcgi would close a preset descriptor on entry unless it believes the
  // connection is kept; the BEGIN_REQUEST record then sets the real flag.
  ex.fcgi.ipcFd = fd;
  ex.fcgi.keepConnection = 1;
  if (FCGX_Accept_r(&ex.fcgi) < 0) return false;
  ex.started_us = monotonic_micros();
  ex.request = http::Request();
  ex.too_large = false;
  if (!http::read_request(ex.fcgi, rng, &ex.request, &ex.too_large)) {
    ex.fcgi.keepConnection = 0;
    FCGX_Finish_r(&ex.fcgi);  // nobody is waiting for an answer
    return false;
  }
  ex.match = api::resolve(ex.request);
  ex.route_slot = api::metrics_route_slot(ex.match);
  ex.tally = metrics::Tally();
  return true;
}

void handle(Exchange& ex, api::Services& services) {
  ex.response = ex.too_large ? http::render_error(Status::TooLarge())
                             : api::dispatch(ex.request, std::move(ex.match), services, ex.tally);
}

// Counts the answered request. What it did counts only when it was not
// answered 5xx: then its writes were rolled back (or its group's commit
// failed and every answer of the group became a 503).
void count(const Exchange& ex, metrics::Counters& counters, int64_t micros) {
  counters.count_request(ex.route_slot, metrics::method_of(ex.request.method), ex.response.status,
                         micros);
  if (ex.response.status < 500) counters.add(ex.tally);
}

void answer(Exchange& ex, metrics::Counters& counters, int group = 1) {
  // Counted before it is written: a client that has its answer finds it
  // counted in the next scrape.
  const int64_t micros = monotonic_micros() - ex.started_us;
  count(ex, counters, micros);
  http::write_response(ex.fcgi, ex.request, ex.response);
  // Once the request is read to its end, close at once: libfcgi's lingering
  // close (shutdown, then wait for nginx to close first) idles the worker for
  // a round trip on every request. An unread body keeps the lingering close.
  if (!ex.too_large) ex.fcgi.detached = http::read_to_end(ex.fcgi) ? 1 : 0;
  // One request per connection, also when nginx asks to keep it
  // (fastcgi_keep_conn): the slot's next request presets a new descriptor.
  ex.fcgi.keepConnection = 0;
  FCGX_Finish_r(&ex.fcgi);
  log_request(ex.request, ex.response.status, micros, group);
}

// Serves the connection `fd`. With `group_commit`, once a request has
// written, the connections already queued behind it are served in the same
// transaction: one commit (one fsync) for them all, and only then every
// answer, so nothing is answered before it is durable. A request that spends
// a hash (or is too large) ends the group and is served after it, alone.
void serve(int fd, int listen_fd, bool tcp, Exchange* slots, bool group_commit,
           api::Services& services, metrics::Counters& counters, Rng& rng) {
  Exchange& first = slots[0];
  if (!receive(first, fd, rng)) return;
  if (!group_commit || first.too_large || api::spends_hash(first.match)) {
    handle(first, services);
    answer(first, counters);
    return;
  }
  store::Store& store = services.store;
  store.begin_group();
  handle(first, services);
  int grouped = 1;
  Exchange* after_group = nullptr;
  while (grouped < kMaxGroup && store.group_has_writes()) {
    int next_fd = accept_connection(listen_fd, tcp);
    if (next_fd < 0) break;  // nothing queued: the socket is non-blocking
    Exchange& ex = slots[grouped];
    if (!receive(ex, next_fd, rng)) continue;
    if (ex.too_large || api::spends_hash(ex.match)) {
      after_group = &ex;
      break;
    }
    handle(ex, services);
    ++grouped;
  }
  Status committed = store.end_group();
  if (!committed.ok()) {
    // Nothing the group wrote happened: no answer of it may say otherwise.
    log::warn("group commit of " + std::to_string(grouped) +
              " requests failed: " + committed.reason());
    for (int i = 0; i < grouped; ++i) slots[i].response = http::render_error(committed);
  }
  for (int i = 0; i < grouped; ++i) answer(slots[i], counters, grouped);
  if (after_group != nullptr) {
    handle(*after_group, services);
    answer(*after_group, counters);
  }
}

}  // namespace

void run_worker(const Config& config, int listen_fd, int wake_fd, WorkerKind kind,
                metrics::Counters& counters) {
  if (kind == WorkerKind::kHasher) {
    log::set_role("hasher");
    set_process_name("cpa-hasher");
    set_process_title("cryptopay-auth: hasher");
  } else {
    log::set_role("worker");
    set_process_name("cpa-worker");
    set_process_title("cryptopay-auth: worker");
  }
  sigset_t wait_mask;
  install_child_signals(&wait_mask);

  Result<std::unique_ptr<store::Store>> opened =
      store::Store::open(config.database(), config.db_busy_timeout_ms);
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
  api::Services services{config, *store, clock, rng, keys, &counters};

  FCGX_Init();
  std::vector<Exchange> slots(kMaxGroup);
  // No listening socket for libfcgi: it would accept on its own after a
  // protocol error, inside a group. serve() does every accept.
  for (Exchange& ex : slots) FCGX_InitRequest(&ex.fcgi, -1, 0);
  // Hashers never group: their requests would hold the writer lock across a
  // hash.
  const bool group_commit = kind == WorkerKind::kWorker;
  const ListenAddress& address = kind == WorkerKind::kHasher ? config.hash_socket : config.socket;
  const bool tcp = address.tcp();

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
      // Between requests only: the signals are blocked while one is served,
      // so the request in hand is always finished. Then serve what nginx
      // already queued on the socket, and leave. (During an upgrade the new
      // workers accept from the same queue already.) Once connections are
      // kept (fastcgi_keep_conn), this is the one place a kept connection
      // may be closed, and only after its last answer, never while idle:
      // nginx 1.22 answers 502 to a POST sent on a cached connection the
      // worker has just closed, since it retries no POST it has sent
      // (fastcgi_next_upstream in nginx/cryptopay-auth-fastcgi.conf).
      for (;;) {
        int fd = accept_connection(listen_fd, tcp);
        if (fd < 0) break;
        serve(fd, listen_fd, tcp, slots.data(), group_commit, services, counters, rng);
      }
      _exit(0);
    }
    reopen_log_if_asked(config.log_file);
    struct epoll_event out;
    int n = epoll_pwait(ep, &out, 1, -1, &wait_mask);
    if (n <= 0) continue;  // EINTR: a signal; the loop head looks at it
    int fd = accept_connection(listen_fd, tcp);
    if (fd < 0) continue;  // another worker took it
    serve(fd, listen_fd, tcp, slots.data(), group_commit, services, counters, rng);
  }
}

}  // namespace cpa::proc
