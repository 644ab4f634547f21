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

#include "core/clock.h"
#include "core/log.h"
#include "metrics/counters.h"
#include "proc/mailer_process.h"
#include "proc/nginx.h"
#include "proc/nginx_user.h"
#include "proc/signals.h"
#include "proc/title.h"
#include "proc/worker.h"
#include "state/prepare.h"
#include "state/running.h"
#include "state/unix_socket.h"

namespace cpa::proc {
namespace {

constexpr int64_t kDrainMicros = 10 * 1000000;
constexpr int64_t kStableMicros = 1000000;  // a child that lived this long was not crash-looping
constexpr int64_t kMaxBackoffMicros = 30 * 1000000;

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

int open_listen_socket(const std::string& path, std::string* error) {
  struct sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    *error = "AUTH_SOCKET: " + path + " is longer than a unix socket path may be (" +
             std::to_string(sizeof addr.sun_path - 1) + " bytes)";
    return -1;
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = "AUTH_SOCKET: " + path + " exists and is not a socket";
      return -1;
    }
    // Taking over a socket in use would leave that instance serving nothing.
    if (state::someone_listens(path)) {
      *error = "AUTH_SOCKET: " + path + " is in use: is another instance running on it?";
      return -1;
    }
    unlink(path.c_str());  // stale, from a previous run
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      chmod(path.c_str(), 0660) != 0 || listen(fd, 4096) != 0) {
    *error = "AUTH_SOCKET: cannot listen on " + path + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

class Master {
 public:
  Master(Config config, const MasterOptions& options)
      : config_(std::move(config)), options_(options) {}

  int run();

 private:
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
  fresh->socket_path = config_.socket_path;
  fresh->hash_socket_path = config_.hash_socket_path;
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

void Master::stop() {
  stopping_ = true;
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
  // New connections fail fast from here on.
  unlink(config_.socket_path.c_str());
  unlink(config_.hash_socket_path.c_str());
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

int Master::run() {
  std::string error;
  listen_fd_ = open_listen_socket(config_.socket_path, &error);
  if (listen_fd_ >= 0) hash_listen_fd_ = open_listen_socket(config_.hash_socket_path, &error);
  if (listen_fd_ < 0 || hash_listen_fd_ < 0) {
    log::error(error);
    return 1;
  }
  if (pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
    log::error(std::string("pipe: ") + strerror(errno));
    return 1;
  }
  counters_ = metrics::Counters::create(&error);
  if (!counters_) {
    log::error(error);
    return 1;
  }
  if (options_.with_nginx) {
    nginx_user_ = nginx_worker_user();
    if (!write_nginx_config(config_, nginx_user_, &nginx_conf_, &error) ||
        (nginx_user_ && !grant_nginx_access(config_, *nginx_user_, &error))) {
      log::error(error);
      return 1;
    }
  }

  // Every signal the master acts on or ignores is taken by sigtimedwait()
  // below, never by a default action: none of them can kill the service.
  signals_ = master_signals();
  sigprocmask(SIG_BLOCK, &signals_, nullptr);
  signal(SIGPIPE, SIG_IGN);

  add_pool_slots();
  if (options_.with_nginx) slots_.push_back(Slot{Role::kNginx, 0});
  for (Slot& s : slots_) spawn(s);

  std::string pid_file = state::pid_file(config_);
  if (FILE* f = fopen(pid_file.c_str(), "w")) {
    fprintf(f, "%d\n", getpid());
    fclose(f);
  }
  log::info("serving on " + config_.socket_path + " with " + std::to_string(config_.workers) +
            " workers, " + config_.hash_socket_path + " with " +
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
    } else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
      stop();
      unlink(pid_file.c_str());
      log::info("stopped");
      return 0;
    } else if (sig > 0) {
      const char* abbrev = sigabbrev_np(sig);
      std::string name = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
      log::info(name + " ignored (USR1 reopens the log, HUP reloads, TERM stops)");
    }
  }
}

}  // namespace

int run_master(Config config, const MasterOptions& options) {
  log::set_role("master");
  set_process_title("cryptopay-auth: master");
  std::string error;
  if (!state::prepare_state(&config, state::StateUse::kCreate, &error)) {
    log::error(error);
    return 1;
  }
  if (!log::open_file(config.log_file, &error)) {
    log::error(error);
    return 1;
  }
  Master master(std::move(config), options);
  return master.run();
}

}  // namespace cpa::proc
