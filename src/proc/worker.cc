#include "proc/worker.h"

#include <fcgiapp.h>
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
#include "proc/connections.h"
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
  int fd = -1;  // its connection (fcgi.ipcFd is -1 once libfcgi closed it)
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

// On SIGTERM a worker goes on serving its kept connections until nginx has
// closed them all, and never closes one itself, even right after an answer:
// nginx 1.22 under `fastcgi_next_upstream off` answers 502 to a request it
// sends on a cached connection the worker has just closed, and retries none
// (an upgrade's fault test caught one such 502 when the worker closed after
// its answer). nginx closes an idle one after 1 s (keepalive_timeout) and
// any after 5 s (keepalive_time), both nginx files; past this limit the
// worker closes what is left (an nginx configured otherwise) and exits,
// before the master's own drain limit (10 s).
constexpr int64_t kDrainMicros = 8 * 1000000;

// Takes the connection `fd` into `ex` and reads its request; false on a
// protocol error or a cut body (the connection is closed then).
bool receive(Exchange& ex, int fd, Rng& rng) {
  // libfcgi would close a preset descriptor on entry unless it believes the
  // connection is kept; the BEGIN_REQUEST record then sets the real flag.
  ex.fd = fd;
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

// Answers, then keeps the connection for nginx's next request when nginx
// asked to (fastcgi_keep_conn sets the flag in BEGIN_REQUEST) and `keep_alive`.
void answer(Exchange& ex, bool keep_alive, metrics::Counters& counters, int group = 1) {
  // Counted before it is written: a client that has its answer finds it
  // counted in the next scrape.
  const int64_t micros = monotonic_micros() - ex.started_us;
  count(ex, counters, micros);
  http::write_response(ex.fcgi, ex.request, ex.response);
  // Once the request is read to its end, close at once: libfcgi's lingering
  // close (shutdown, then wait for nginx to close first) idles the worker for
  // a round trip on every request. An unread body keeps the lingering close,
  // and is never kept: the next request would start inside it.
  const bool read_all = !ex.too_large && http::read_to_end(ex.fcgi);
  ex.fcgi.detached = read_all ? 1 : 0;
  if (!keep_alive || !read_all) ex.fcgi.keepConnection = 0;
  FCGX_Finish_r(&ex.fcgi);  // closes unless kept (or on a write error)
  log_request(ex.request, ex.response.status, micros, group);
}

// After answer(): the connection goes back to the epoll set, or is gone.
void release(Exchange& ex, Connections& conns) {
  if (ex.fcgi.ipcFd >= 0) {
    conns.keep(ex.fd);
  } else {
    conns.forget(ex.fd);
  }
}

// What a worker serves with: its pool's habits, the request slots, and
// where requests come from and are counted.
struct Serving {
  Exchange* slots;
  bool group_commit;
  bool keep_alive;
  Connections& conns;
  api::Services& services;
  metrics::Counters& counters;
  Rng& rng;
};

void answer_and_release(Exchange& ex, Serving& w, int group = 1) {
  answer(ex, w.keep_alive, w.counters, group);
  release(ex, w.conns);
}

// Serves the request waiting on connection `fd`. With `group_commit`, once a
// request has written, the requests already waiting behind it (new
// connections queued on the socket, and this worker's kept connections
// whose next request has arrived) are served in the same transaction: one
// commit (one fsync) for them all, and only then every answer, so nothing is
// answered before it is durable. A kept connection carries one request at a
// time (nginx sends the next only after the answer, and the connection is
// watched again only once answered), so a group never holds two of one
// connection, and every request starts from a reset Exchange (receive()). A
// request that spends a hash (or is too large) ends the group and is served
// after it, alone.
void serve(int fd, Serving& w) {
  Exchange* slots = w.slots;
  api::Services& services = w.services;
  Exchange& first = slots[0];
  if (!receive(first, fd, w.rng)) {
    w.conns.forget(fd);  // libfcgi closed it
    return;
  }
  if (!w.group_commit || first.too_large || api::spends_hash(first.match)) {
    handle(first, services);
    answer_and_release(first, w);
    return;
  }
  store::Store& store = services.store;
  store.begin_group();
  handle(first, services);
  int grouped = 1;
  Exchange* after_group = nullptr;
  while (grouped < kMaxGroup && store.group_has_writes()) {
    int next_fd = w.conns.next_ready();
    if (next_fd < 0) break;  // nothing waiting
    Exchange& ex = slots[grouped];
    if (!receive(ex, next_fd, w.rng)) {
      w.conns.forget(next_fd);
      continue;
    }
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
  for (int i = 0; i < grouped; ++i) answer_and_release(slots[i], w, grouped);
  if (after_group != nullptr) {
    handle(*after_group, services);
    answer_and_release(*after_group, w);
  }
}

// SIGTERM, between requests only (the signals are blocked while one is
// served, so the request in hand and its group are always finished): serve
// what nginx already queued on the socket (during an upgrade the new workers
// accept from the same queue already), then what the kept connections bring
// until nginx has closed them all (kDrainMicros at most). `wait_mask` as the
// main loop's: SIGUSR1 still reopens the log meanwhile.
[[noreturn]] void drain(int listen_fd, Serving& w, const std::string& log_file,
                        const sigset_t* wait_mask) {
  w.conns.stop_accepting();
  for (;;) {
    int fd = accept_connection(listen_fd, w.conns.tcp());
    if (fd < 0) break;
    serve(fd, w);
  }
  const int64_t deadline = monotonic_micros() + kDrainMicros;
  while (w.conns.kept() > 0 && monotonic_micros() < deadline) {
    reopen_log_if_asked(log_file);
    int fd = w.conns.wait(wait_mask, 100);
    if (fd >= 0) serve(fd, w);  // a request, or nginx closing it (libfcgi then closes it too)
  }
  w.conns.close_all();
  _exit(0);
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
  // protocol error, inside a group. Connections does every accept.
  for (Exchange& ex : slots) FCGX_InitRequest(&ex.fcgi, -1, 0);
  const ListenAddress& address = kind == WorkerKind::kHasher ? config.hash_socket : config.socket;
  Connections conns(listen_fd, address.tcp());
  if (!conns.ok()) {
    log::error("epoll setup failed");
    _exit(3);
  }
  // Hashers never group: their requests would hold the writer lock across a
  // hash. Nor do they keep connections: a kept connection waits while its
  // worker is busy, and a hasher is busy for a whole hash (nginx keeps none
  // to that pool either).
  const bool is_worker = kind == WorkerKind::kWorker;
  Serving serving{slots.data(), is_worker, is_worker, conns, services, counters, rng};

  for (;;) {
    if (g_stop_requested) drain(listen_fd, serving, config.log_file, &wait_mask);
    reopen_log_if_asked(config.log_file);
    int fd = conns.wait(&wait_mask, -1);
    if (fd < 0) continue;  // a signal (the loop head looks at it), or another worker's
    serve(fd, serving);
  }
}

}  // namespace cpa::proc
