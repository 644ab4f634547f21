#include "proc/master.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "api/routes.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "metrics/counters.h"
#include "proc/mailer_process.h"
#include "proc/nginx.h"
#include "proc/nginx_user.h"
#include "proc/signals.h"
#include "proc/title.h"
#include "proc/upgrade.h"
#include "proc/worker.h"
#include "state/prepare.h"
#include "state/listener.h"
#include "state/running.h"

namespace cpa::proc {
namespace {

constexpr int64_t kDrainMicros = 10 * 1000000;
constexpr int64_t kStableMicros = 1000000;  // a child that lived this long was not crash-looping
constexpr int64_t kMaxBackoffMicros = 30 * 1000000;
// How long the new binary's rehearsal may take (it may migrate the schema).
constexpr int64_t kRehearsalMicros = 60 * 1000000;

enum class Role { kWorker, kHasher, kMailer, kNginx };

const char* role_name(Role r) {
  switch (r) {
    case Role::kWorker: return "worker";
    case Role::kHasher: return "hasher";
    case Role::kMailer: return "mailer";
    default: return "nginx";
  }
}

bool is_pool(Role r) { return r == Role::kWorker || r == Role::kHasher; }

std::optional<Role> role_named(const std::string& name) {
  for (Role r : {Role::kWorker, Role::kHasher, Role::kMailer, Role::kNginx})
    if (name == role_name(r)) return r;
  return std::nullopt;
}

std::string how_it_ended(int status) {
  return WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                             : "exited with status " + std::to_string(WEXITSTATUS(status));
}

std::string this_version() { return "cryptopay-auth " + std::string(version()); }

// What the counters' slots mean beyond their own tables: a route's slot is
// its place in the route table (api::pattern_slot).
std::string counters_layout() { return api::route_listing(); }

std::string read_file_or_empty(const std::string& path) {
  std::string text;
  if (FILE* f = fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    fclose(f);
  }
  return text;
}

metrics::Role metrics_role(Role r) {
  switch (r) {
    case Role::kWorker: return metrics::Role::kWorker;
    case Role::kHasher: return metrics::Role::kHasher;
    case Role::kMailer: return metrics::Role::kMailer;
    default: return metrics::Role::kNginx;
  }
}

struct Child {
  pid_t pid;
  Role role;
  int slot;
  int generation;
  int64_t started_us;
};

// Restart bookkeeping for one slot (worker i, the mailer, nginx).
struct Slot {
  Role role;
  int index;
  int failures = 0;          // consecutive quick deaths
  int64_t restart_at_us = 0; // 0: not waiting for a restart
};

// A listening socket on `address`, for the pool that `variable` configures.
int open_listen_socket(const char* variable, const ListenAddress& address, std::string* error) {
  const std::string name = variable;
  if (address.tcp()) {
    // No file mode or group: who may connect is the network's to decide
    // (README: a private network, firewalled to nginx's host). A port in
    // use fails the bind: another instance, or another program.
    std::string why;
    int fd = state::bind_tcp(address, &why);
    if (fd >= 0 && listen(fd, 4096) != 0) {
      why = strerror(errno);
      close(fd);
      fd = -1;
    }
    if (fd < 0) {
      *error = name + ": cannot listen on " + address.text() + ": " + why +
               (why == strerror(EADDRINUSE) ? " (is another instance running on it?)" : "");
      return -1;
    }
    return fd;
  }
  const std::string& path = address.path;
  sockaddr_storage addr;
  const socklen_t len = state::sockaddr_of(address, &addr);
  if (len == 0) {
    *error = name + ": " + path + " is longer than a unix socket path may be (" +
             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)";
    return -1;
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = name + ": " + path + " exists and is not a socket";
      return -1;
    }
    // Taking over a socket in use would leave that instance serving nothing.
    if (state::someone_listens(address)) {
      *error = name + ": " + path + " is in use: is another instance running on it?";
      return -1;
    }
    unlink(path.c_str());  // stale, from a previous run
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      chmod(path.c_str(), 0660) != 0 || listen(fd, 4096) != 0) {
    *error = name + ": cannot listen on " + path + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

class Master {
 public:
  Master(Config config, const MasterOptions& options, std::optional<Handover> handover)
      : config_(std::move(config)), options_(options), handover_(std::move(handover)) {}

  int run();

 private:
  // The descriptors an upgrade handed over, checked against the
  // configuration; false, and *error says why, when they do not fit.
  bool adopt_descriptors(std::string* error);
  // The old master's children, as this master's: the old generation, but
  // for `run`'s nginx, which goes on serving as it is.
  void adopt_children();
  void upgrade();
  void on_rehearsal_exit(int status);
  void exec_in_place();
  // What this master hands to the image it executes (`report_fd` >= 0: a
  // rehearsal); the children are the caller's to add.
  Handover handing_over(int exe_fd, int report_fd) const;
  void spawn(Slot& slot);
  void reap();
  void on_exit(const Child& child, int status);
  void reload();
  void reopen_log();
  void stop();
  void signal_children(Role role, int sig, int generation_below = INT_MAX);
  bool has_children(Role role) const;
  // Waits for SIGCHLD (reaping) until `done` or the deadline; true if done.
  template <typename Done>
  bool wait_until(Done done, int64_t deadline_us);

  void add_pool_slots();

  Config config_;
  MasterOptions options_;
  std::optional<Handover> handover_;  // this master re-executed by an upgrade
  // The new binary's rehearsal (upgrade.h), while it runs.
  struct Rehearsal {
    pid_t pid = 0;
    int report_fd = -1;  // its "ready" line
    int exe_fd = -1;     // the file it runs, executed in place if it gets ready
    int64_t deadline_us = 0;
    bool timed_out = false;
  } rehearsal_;
  int listen_fd_ = -1;       // the pool for every route
  int hash_listen_fd_ = -1;  // the pool nginx sends password-hashing routes to
  int wake_pipe_[2] = {-1, -1};
  std::string nginx_conf_;
  std::optional<NginxUser> nginx_user_;  // who nginx's workers run as, when not as us
  // What metrics/ reports, shared with every child: made before the first
  // fork, so that all of them, and their successors, add to the same block.
  std::unique_ptr<metrics::Counters> counters_;
  std::vector<Slot> slots_;
  std::vector<Child> children_;
  int generation_ = 0;
  bool stopping_ = false;
  sigset_t signals_;
};

void Master::spawn(Slot& slot) {
  slot.restart_at_us = 0;
  pid_t pid;
  if (slot.role == Role::kNginx) {
    pid = start_nginx(config_, nginx_conf_);
  } else {
    pid = fork();
    if (pid == 0) {
      setpgid(0, 0);  // Ctrl-C reaches the master only; it stops us in order
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      // The master's signals stay blocked until the child has its own
      // handlers (install_child_signals): a USR1 forwarded to a child just
      // forked must wait for them, not kill it.
      signal(SIGCHLD, SIG_DFL);
      if (is_pool(slot.role)) {
        close(wake_pipe_[0]);
        bool hasher = slot.role == Role::kHasher;
        close(hasher ? listen_fd_ : hash_listen_fd_);
        run_worker(config_, hasher ? hash_listen_fd_ : listen_fd_, wake_pipe_[1],
                   hasher ? WorkerKind::kHasher : WorkerKind::kWorker, *counters_);
      }
      close(listen_fd_);
      close(hash_listen_fd_);
      close(wake_pipe_[1]);
      run_mailer(config_, wake_pipe_[0], *counters_);
    }
  }
  if (pid < 0) {
    log::error(std::string("fork failed for ") + role_name(slot.role) + ": " + strerror(errno));
    slot.restart_at_us = monotonic_micros() + 1000000;
    return;
  }
  children_.push_back(Child{pid, slot.role, slot.index, generation_, monotonic_micros()});
}

void Master::on_exit(const Child& child, int status) {
  std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (stopping_) return;  // expected: we asked it to stop
  if (child.generation != generation_) {
    // A reload's old mailer has finished the message in hand: its successor
    // may start now (reload() held it back).
    if (child.role == Role::kMailer && !has_children(Role::kMailer)) {
      for (Slot& slot : slots_)
        if (slot.role == Role::kMailer) slot.restart_at_us = monotonic_micros();
    }
    return;
  }
  log::warn(std::string(role_name(child.role)) + " " + std::to_string(child.pid) + " " + how +
            "; restarting");
  counters_->count_restart(metrics_role(child.role));
  for (Slot& slot : slots_) {
    if (slot.role != child.role || slot.index != child.slot) continue;
    int64_t now = monotonic_micros();
    if (now - child.started_us >= kStableMicros) {
      slot.failures = 0;
      slot.restart_at_us = now;
    } else {
      // Crashing in a loop: 0.1 s, 0.2 s, 0.4 s ... up to 30 s between tries.
      int64_t delay = std::min<int64_t>(100000LL << std::min(slot.failures, 20), kMaxBackoffMicros);
      ++slot.failures;
      slot.restart_at_us = now + delay;
    }
  }
}

void Master::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == rehearsal_.pid) {
      on_rehearsal_exit(status);
      continue;
    }
    auto it = std::find_if(children_.begin(), children_.end(),
                           [pid](const Child& c) { return c.pid == pid; });
    if (it == children_.end()) continue;
    Child child = *it;
    children_.erase(it);
    on_exit(child, status);
  }
}

void Master::signal_children(Role role, int sig, int generation_below) {
  for (const Child& c : children_)
    if (c.role == role && c.generation < generation_below) kill(c.pid, sig);
}

bool Master::has_children(Role role) const {
  return std::any_of(children_.begin(), children_.end(),
                     [role](const Child& c) { return c.role == role; });
}

template <typename Done>
bool Master::wait_until(Done done, int64_t deadline_us) {
  while (!done()) {
    int64_t left = deadline_us - monotonic_micros();
    if (left <= 0) return false;
    struct timespec ts{left / 1000000, (left % 1000000) * 1000};
    siginfo_t info;
    int sig = sigtimedwait(&signals_, &info, &ts);
    if (sig == SIGCHLD) reap();
  }
  return true;
}

void Master::add_pool_slots() {
  for (int i = 0; i < config_.workers; ++i) slots_.push_back(Slot{Role::kWorker, i});
  for (int i = 0; i < config_.hash_workers; ++i) slots_.push_back(Slot{Role::kHasher, i});
  slots_.push_back(Slot{Role::kMailer, 0});
}

void Master::reload() {
  std::string error;
  Environment file_env;
  if (!options_.config_file.empty() && !parse_env_file(options_.config_file, &file_env, &error)) {
    log::error("reload refused: " + error);
    return;
  }
  std::optional<Config> fresh = load_config(process_environment(), file_env, &error);
  if (!fresh) {
    log::error("reload refused: " + error);
    return;
  }
  // The socket, paths and key stay as they are: a running pool cannot move.
  fresh->state_dir = config_.state_dir;
  fresh->db_path = config_.db_path;
  fresh->database_url = config_.database_url;
  fresh->socket = config_.socket;
  fresh->hash_socket = config_.hash_socket;
  fresh->log_file = config_.log_file;
  fresh->secret_key = config_.secret_key;
  config_ = *fresh;
  log::info("SIGHUP: replacing workers and mailer (generation " +
            std::to_string(generation_ + 1) + ")");

  int old = generation_++;
  slots_.erase(std::remove_if(slots_.begin(), slots_.end(),
                              [](const Slot& s) { return s.role != Role::kNginx; }),
               slots_.end());
  add_pool_slots();
  for (Slot& s : slots_) {
    if (s.role == Role::kNginx) continue;
    // One mailer at a time: two would both pick up the same pending row and
    // send it twice. The new one starts once the old one has gone (on_exit).
    if (s.role == Role::kMailer && has_children(Role::kMailer)) continue;
    spawn(s);
  }
  // nginx children keep their generation: bump it so on_exit still restarts them.
  for (Child& c : children_)
    if (c.role == Role::kNginx) c.generation = generation_;
  signal_children(Role::kWorker, SIGTERM, old + 1);
  signal_children(Role::kHasher, SIGTERM, old + 1);
  signal_children(Role::kMailer, SIGTERM, old + 1);
  if (options_.with_nginx) {
    std::string conf;
    if (write_nginx_config(config_, nginx_user_, &conf, &error)) {
      signal_children(Role::kNginx, SIGHUP);
    } else {
      log::error("nginx config not reloaded: " + error);
    }
  }
}

void Master::reopen_log() {
  std::string error;
  if (!log::open_file(config_.log_file, &error)) {
    log::warn("SIGUSR1: " + error + "; still writing the old file");
  } else if (!config_.log_file.empty()) {
    log::info("SIGUSR1: reopened " + config_.log_file);
  }
  // Each child reopens its own descriptor at its next wait; nginx (`run`)
  // reopens its logs on the same signal.
  for (Role role : {Role::kWorker, Role::kHasher, Role::kMailer, Role::kNginx})
    signal_children(role, SIGUSR1);
}

void Master::upgrade() {
  if (rehearsal_.pid != 0) {
    log::info("SIGUSR2: an upgrade is already under way (rehearsal " +
              std::to_string(rehearsal_.pid) + ")");
    return;
  }
  const std::string& path = executable_path();
  // The file as it is now: whatever replaces it later, this is the one
  // rehearsed and then executed.
  int exe_fd = path.empty() ? -1 : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (exe_fd < 0) {
    log::error("upgrade aborted: cannot open " + (path.empty() ? "the binary" : path) + ": " +
               strerror(errno) + "; still serving as " + this_version());
    return;
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0) {
    log::error(std::string("upgrade aborted: pipe: ") + strerror(errno));
    close(exe_fd);
    return;
  }
  log::info("SIGUSR2: upgrading to " + path + ": rehearsing its start first");
  const Handover handover = handing_over(exe_fd, report[1]);
  std::vector<std::string> env = handover_environment(handover);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a rehearsal outlives no master
    reset_signals_for_exec();
    for (int fd : handover.descriptors()) set_close_on_exec(fd, false);
    exec_binary(exe_fd, env);
    log::set_role("upgrade");
    log::error("cannot execute " + path + ": " + strerror(errno));
    _exit(127);
  }
  close(report[1]);
  if (pid < 0) {
    log::error(std::string("upgrade aborted: fork: ") + strerror(errno));
    close(report[0]);
    close(exe_fd);
    return;
  }
  rehearsal_ = Rehearsal{pid, report[0], exe_fd, monotonic_micros() + kRehearsalMicros, false};
}

void Master::on_rehearsal_exit(int status) {
  std::string report;
  char buf[256];
  ssize_t n;
  while ((n = read(rehearsal_.report_fd, buf, sizeof buf)) > 0) report.append(buf, n);
  close(rehearsal_.report_fd);
  Rehearsal done = rehearsal_;
  rehearsal_ = Rehearsal{};
  const bool ready = WIFEXITED(status) && WEXITSTATUS(status) == 0 && report.starts_with("ready ");
  if (stopping_ || !ready) {
    if (!stopping_) {
      std::string why = done.timed_out ? "did not get ready within " +
                                             std::to_string(kRehearsalMicros / 1000000) + " s"
                        : WIFEXITED(status) && WEXITSTATUS(status) == 0
                            ? "exited without saying it was ready"
                            : how_it_ended(status) + " before it was ready";
      log::error("upgrade aborted: " + executable_path() + " " + why +
                 " (its own lines say why); still serving as " + this_version() + ", pid " +
                 std::to_string(getpid()));
    }
    close(done.exe_fd);
    return;
  }
  std::string version = report.substr(6);
  while (!version.empty() && version.back() == '\n') version.pop_back();
  log::info("upgrade: " + executable_path() + " (" + version + ") is ready");
  rehearsal_.exe_fd = done.exe_fd;
  exec_in_place();
  close(rehearsal_.exe_fd);
  rehearsal_.exe_fd = -1;
}

Handover Master::handing_over(int exe_fd, int report_fd) const {
  return Handover{.socket_fd = listen_fd_,
                  .hash_socket_fd = hash_listen_fd_,
                  .wake_read_fd = wake_pipe_[0],
                  .wake_write_fd = wake_pipe_[1],
                  .metrics_fd = counters_->fd(),
                  .exe_fd = exe_fd,
                  .report_fd = report_fd,
                  .children = {}};
}

void Master::exec_in_place() {
  Handover handover = handing_over(rehearsal_.exe_fd, -1);
  for (const Child& c : children_) handover.children.push_back({role_name(c.role), c.pid});
  std::vector<std::string> env = handover_environment(handover);
  const std::vector<int> kept = handover.descriptors();
  for (int fd : kept) set_close_on_exec(fd, false);
  log::info("upgrade: executing " + executable_path() + " in place (pid " +
            std::to_string(getpid()) + "); " + std::to_string(children_.size()) +
            " processes hand over");
  // The signals blocked for sigtimedwait() stay blocked across the exec:
  // any that arrives meanwhile waits, pending, for the new image.
  exec_binary(rehearsal_.exe_fd, env);
  int err = errno;
  for (int fd : kept) set_close_on_exec(fd, true);
  log::error("upgrade aborted: cannot execute " + executable_path() + ": " + strerror(err) +
             "; still serving as " + this_version());
}

void Master::stop() {
  stopping_ = true;
  if (rehearsal_.pid != 0) kill(rehearsal_.pid, SIGKILL);
  log::info(options_.with_nginx ? "stopping: nginx first, then the pool, then the mailer"
                                : "stopping: the pool first, then the mailer");
  if (has_children(Role::kNginx)) {
    auto nginx_gone = [&] { return !has_children(Role::kNginx); };
    // QUIT: stop accepting, finish what is in flight. Then TERM (nginx's
    // master stops its workers itself); KILL only as a last resort, since it
    // would orphan nginx's workers.
    signal_children(Role::kNginx, SIGQUIT);
    if (!wait_until(nginx_gone, monotonic_micros() + kDrainMicros)) {
      signal_children(Role::kNginx, SIGTERM);
      if (!wait_until(nginx_gone, monotonic_micros() + 2000000)) {
        signal_children(Role::kNginx, SIGKILL);
        wait_until(nginx_gone, monotonic_micros() + 1000000);
      }
    }
  }
  // New connections fail fast from here on: a unix path is gone at once; a
  // TCP port refuses connections once the last worker, which drains what
  // is queued on it, has closed its copy. The master's copies go now, or
  // the port would take connections into a backlog nobody accepts from
  // while the mailer finishes (nginx's next upstream gets them instead).
  for (const ListenAddress* address : {&config_.socket, &config_.hash_socket})
    if (!address->tcp()) unlink(address->path.c_str());
  close(listen_fd_);
  close(hash_listen_fd_);
  listen_fd_ = hash_listen_fd_ = -1;
  signal_children(Role::kWorker, SIGTERM);
  signal_children(Role::kHasher, SIGTERM);
  // The mailer last: it goes on delivering while the pool drains, then
  // finishes the message in hand.
  auto pool_gone = [&] { return !has_children(Role::kWorker) && !has_children(Role::kHasher); };
  bool drained = wait_until(pool_gone, monotonic_micros() + kDrainMicros);
  signal_children(Role::kMailer, SIGTERM);
  drained = wait_until([&] { return children_.empty(); }, monotonic_micros() + kDrainMicros) &&
            drained;
  if (!drained) {
    log::warn("drain timed out; killing what is left");
    for (const Child& c : children_) kill(c.pid, SIGKILL);
    wait_until([&] { return children_.empty(); }, monotonic_micros() + 2000000);
  }
}

bool Master::adopt_descriptors(std::string* error) {
  const Handover& h = *handover_;
  if (h.exe_fd >= 0) close(h.exe_fd);  // fexecve's: it has served
  std::string why;
  if (!is_listening_socket_on(h.socket_fd, config_.socket, &why)) {
    *error = "AUTH_SOCKET: " + why;
    return false;
  }
  if (!is_listening_socket_on(h.hash_socket_fd, config_.hash_socket, &why)) {
    *error = "AUTH_HASH_SOCKET: " + why;
    return false;
  }
  listen_fd_ = h.socket_fd;
  hash_listen_fd_ = h.hash_socket_fd;
  wake_pipe_[0] = h.wake_read_fd;
  wake_pipe_[1] = h.wake_write_fd;
  // Left open for the exec only: nginx (`run`) must not inherit them.
  for (int fd : {listen_fd_, hash_listen_fd_, wake_pipe_[0], wake_pipe_[1]}) {
    if (!set_close_on_exec(fd, true)) {
      *error = "descriptor " + std::to_string(fd) + " handed over is not open";
      return false;
    }
  }
  if (h.metrics_fd >= 0) {
    set_close_on_exec(h.metrics_fd, true);
    counters_ = metrics::Counters::adopt(h.metrics_fd, &why, counters_layout());
    if (!counters_)
      log::warn("metrics start at zero: " + why + "; the old processes count in the old block");
  }
  if (!counters_) counters_ = metrics::Counters::create(error, counters_layout());
  return counters_ != nullptr;
}

void Master::adopt_children() {
  for (const Handover::Process& p : handover_->children) {
    std::optional<Role> role = role_named(p.role);
    if (!role) continue;
    // nginx keeps serving through the upgrade (its upstreams are the socket
    // paths, which never went away): it is this generation's, restarted if
    // it dies. Everything else is the old generation, told to finish.
    int generation = *role == Role::kNginx && options_.with_nginx ? generation_ : generation_ - 1;
    children_.push_back(Child{p.pid, *role, 0, generation, monotonic_micros()});
  }
}

int Master::run() {
  std::string error;
  if (handover_) {
    if (!adopt_descriptors(&error)) {
      log::error((handover_->rehearsal() ? "" : "upgrade failed: ") + error);
      return 1;
    }
  } else {
    listen_fd_ = open_listen_socket("AUTH_SOCKET", config_.socket, &error);
    if (listen_fd_ >= 0)
      hash_listen_fd_ = open_listen_socket("AUTH_HASH_SOCKET", config_.hash_socket, &error);
    if (listen_fd_ < 0 || hash_listen_fd_ < 0) {
      log::error(error);
      return 1;
    }
    if (pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
      log::error(std::string("pipe: ") + strerror(errno));
      return 1;
    }
    counters_ = metrics::Counters::create(&error, counters_layout());
    if (!counters_) {
      log::error(error);
      return 1;
    }
  }
  if (handover_ && handover_->rehearsal()) {
    // Everything this binary needs to take over has been read and checked:
    // the configuration, the state dir, the schema, the sockets, the
    // counters. The old master executes it in place on this line.
    std::string line = "ready " + this_version() + "\n";
    bool said = write(handover_->report_fd, line.data(), line.size()) ==
                static_cast<ssize_t>(line.size());
    return said ? 0 : 1;
  }
  if (handover_) adopt_children();
  bool nginx_adopted = has_children(Role::kNginx);
  if (options_.with_nginx) {
    nginx_user_ = nginx_worker_user();
    std::string conf_before = read_file_or_empty(config_.state_dir + "/nginx.conf");
    bool written = write_nginx_config(config_, nginx_user_, &nginx_conf_, &error) &&
                   (!nginx_user_ || grant_nginx_access(config_, *nginx_user_, &error));
    if (!written && !nginx_adopted) {
      log::error(error);
      return 1;
    }
    if (!written) {
      nginx_conf_ = config_.state_dir + "/nginx.conf";
      log::warn("nginx keeps its configuration: " + error);
    } else if (nginx_adopted && read_file_or_empty(nginx_conf_) != conf_before) {
      // This binary renders another configuration: nginx reloads it
      // gracefully (new workers; the old ones finish their connections).
      log::info("upgrade: nginx's configuration changed; nginx reloads it");
      signal_children(Role::kNginx, SIGHUP);
    }
  }

  // Every signal the master acts on or ignores is taken by sigtimedwait()
  // below, never by a default action: none of them can kill the service.
  signals_ = master_signals();
  sigprocmask(SIG_BLOCK, &signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);

  add_pool_slots();
  if (options_.with_nginx) slots_.push_back(Slot{Role::kNginx, 0});
  for (Slot& s : slots_) {
    // One mailer at a time (see reload()): an old one still delivering
    // makes this one wait for its exit (on_exit).
    if (s.role == Role::kMailer && has_children(Role::kMailer)) continue;
    if (s.role == Role::kNginx && nginx_adopted) continue;
    spawn(s);
  }
  if (handover_) {
    // Our workers are forked and accept beside the old ones: these may now
    // finish the request in hand and leave; the old mailer finishes the
    // message in hand, and ours starts when it has gone.
    int old = 0;
    for (const Child& c : children_) old += c.generation < generation_;
    signal_children(Role::kWorker, SIGTERM, generation_);
    signal_children(Role::kHasher, SIGTERM, generation_);
    signal_children(Role::kMailer, SIGTERM, generation_);
    log::info("upgraded in place: now " + this_version() + " from " + executable_path() +
              ", pid " + std::to_string(getpid()) + "; " + std::to_string(old) +
              " old processes finish what they hold" +
              (nginx_adopted ? "; nginx goes on serving" : ""));
  }

  std::string pid_file = state::pid_file(config_);
  if (FILE* f = fopen(pid_file.c_str(), "w")) {
    fprintf(f, "%d\n", getpid());
    fclose(f);
  }
  log::info("serving on " + config_.socket.text() + " with " + std::to_string(config_.workers) +
            " workers, " + config_.hash_socket.text() + " with " +
            std::to_string(config_.hash_workers) + " for password hashing" +
            (options_.with_nginx ? ", nginx on http://127.0.0.1:" + std::to_string(config_.http_port)
                                 : std::string()));
  // Behind the system nginx, the site file lists the origins: say so rather
  // than let the setting look as if it did something.
  if (!options_.with_nginx && !config_.cors_origins.empty())
    log::warn("AUTH_CORS_ORIGINS is for `run`'s nginx only: behind the system nginx, list the "
              "origins on the site file's `set $cpa_cors_origins` line");

  for (;;) {
    int64_t now = monotonic_micros();
    int64_t next = now + 1000000;
    for (Slot& s : slots_) {
      if (!s.restart_at_us) continue;
      if (s.restart_at_us <= now) {
        spawn(s);
      } else {
        next = std::min(next, s.restart_at_us);
      }
    }
    if (rehearsal_.pid != 0) {
      if (rehearsal_.deadline_us <= now && !rehearsal_.timed_out) {
        rehearsal_.timed_out = true;
        kill(rehearsal_.pid, SIGKILL);  // reaped like any child: on_rehearsal_exit
      } else if (!rehearsal_.timed_out) {
        next = std::min(next, rehearsal_.deadline_us);
      }
    }
    int64_t wait = std::max<int64_t>(next - monotonic_micros(), 1000);
    struct timespec ts{wait / 1000000, (wait % 1000000) * 1000};
    siginfo_t info;
    int sig = sigtimedwait(&signals_, &info, &ts);
    if (sig == SIGCHLD) {
      reap();
    } else if (sig == SIGHUP) {
      reload();
    } else if (sig == SIGUSR1) {
      reopen_log();
    } else if (sig == SIGUSR2) {
      upgrade();
    } else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
      stop();
      unlink(pid_file.c_str());
      log::info("stopped");
      return 0;
    } else if (sig > 0) {
      const char* abbrev = sigabbrev_np(sig);
      std::string name = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
      log::info(name + " ignored (USR1 reopens the log, HUP reloads, USR2 upgrades, TERM stops)");
    }
  }
}

}  // namespace

int run_master(Config config, const MasterOptions& options) {
  std::string error;
  std::optional<Handover> handover = take_handover(&error);
  const bool rehearsal = handover && handover->rehearsal();
  log::set_role(rehearsal ? "upgrade" : "master");
  set_process_title(rehearsal ? "cryptopay-auth: upgrade check" : "cryptopay-auth: master");
  if (!error.empty()) {
    // Handed something this binary cannot read (another version's format):
    // refuse rather than bind over sockets an old master still serves on.
    log::error("upgrade failed: " + error);
    return 1;
  }
  if (!state::prepare_state(&config, state::StateUse::kCreate, &error)) {
    log::error(error);
    return 1;
  }
  if (!log::open_file(config.log_file, &error)) {
    log::error(error);
    return 1;
  }
  Master master(std::move(config), options, std::move(handover));
  return master.run();
}

}  // namespace cpa::proc
