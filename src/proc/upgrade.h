// Upgrading in place: SIGUSR2 to the master (`systemctl reload`) replaces
// the running binary with the file on disk without refusing a connection.
//
// The master re-executes itself (execve in the same pid: systemd's MAINPID,
// the pid file and the parent of every child stay what they were), handing
// the new image what must outlive the old one, as descriptors left open
// across the exec and named in CRYPTOPAY_AUTH_INHERIT: the two listening
// sockets (nginx's connections keep queueing on them throughout), the
// mailer's wake-up pipe and the metrics counters' memfd. Its children,
// which stay its children, are named in CRYPTOPAY_AUTH_CHILDREN: the new
// master reaps them, tells the old workers, hashers and mailer to finish
// what they hold once its own are forked, and starts its mailer when the
// old one has gone; `run`'s nginx is adopted as it runs.
//
// An exec that succeeds cannot be undone, so the new binary is first run
// beside the master, as a rehearsal, with the same descriptors (and
// CRYPTOPAY_AUTH_INHERIT's report=FD): it reads the configuration, migrates,
// checks the sockets and the counters, says "ready" and exits. Only then is
// the very same file (held open since SIGUSR2: fexecve) executed in place.
// A binary that fails its rehearsal changes nothing: the master logs why and
// keeps serving. proc/master.cc drives it; README "Upgrading" is the admin's view.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/listen_address.h"

namespace cpa::proc {

inline constexpr char kInheritVariable[] = "CRYPTOPAY_AUTH_INHERIT";
inline constexpr char kChildrenVariable[] = "CRYPTOPAY_AUTH_CHILDREN";

// What an old master hands the binary it executes.
struct Handover {
  int socket_fd = -1;       // AUTH_SOCKET, listening
  int hash_socket_fd = -1;  // AUTH_HASH_SOCKET, listening
  int wake_read_fd = -1;    // the mailer's wake-up pipe: the old workers still write to it
  int wake_write_fd = -1;
  int metrics_fd = -1;      // the counters' memfd (-1: none handed over)
  int exe_fd = -1;          // the binary itself (fexecve): the new image closes it
  int report_fd = -1;       // a rehearsal only: where it writes "ready VERSION"

  struct Process {
    std::string role;  // "worker", "hasher", "mailer", "nginx"
    pid_t pid;
  };
  std::vector<Process> children;

  bool rehearsal() const { return report_fd >= 0; }
  // Every descriptor handed over (the open ones): left open across the exec.
  std::vector<int> descriptors() const;
};

// "socket=3,hash_socket=4,wake=5:6,metrics=7,exe=8[,report=9]".
std::string encode_descriptors(const Handover& handover);
// "worker=120,hasher=122,mailer=123,nginx=124" (empty: none).
std::string encode_children(const Handover& handover);
// The two variables' values back into *out; false, and *error says what is
// wrong, on anything but what the encoders write (each fd at least 3,
// socket, hash_socket and wake required, roles known, pids positive).
bool parse_handover(std::string_view descriptors, std::string_view children, Handover* out,
                    std::string* error);

// The handover this process was started with, read from the environment and
// removed from it (so that nothing it starts inherits the names): nullopt
// when there is none, or when it is malformed (*error then says why).
std::optional<Handover> take_handover(std::string* error);

// Call first in main, before the process title overwrites argv: the command
// line and the executable's path (/proc/self/exe) an upgrade runs again.
void remember_command_line(int argc, char** argv);
const std::string& executable_path();

// This process's environment without any earlier handover, plus `handover`'s
// two variables: the new image's.
std::vector<std::string> handover_environment(const Handover& handover);

// Executes the file open on `exe_fd` (its descriptor must not be
// close-on-exec, so that a #! script works too) with the remembered command
// line and `env`. Returns only on failure, with errno set.
void exec_binary(int exe_fd, const std::vector<std::string>& env);

// Whether `fd` is a listening stream socket bound to `address`: a unix
// socket on its path, or a TCP socket on its address and port. If not,
// *error says what it is instead.
bool is_listening_socket_on(int fd, const ListenAddress& address, std::string* error);

// Sets or clears FD_CLOEXEC on `fd`.
bool set_close_on_exec(int fd, bool on);

}  // namespace cpa::proc
