#include "state/running.h"

#include <signal.h>

#include <cerrno>
#include <fstream>

#include "state/listener.h"

namespace cpa::state {

std::string pid_file(const Config& config) { return config.state_dir + "/cryptopay-auth.pid"; }

std::string running_service(const Config& config) {
  const std::string file = pid_file(config);
  std::ifstream in(file);
  long pid = 0;
  // kill(pid, 0) delivers nothing: it only asks whether the process exists
  // (EPERM: it does, under another user).
  if (in >> pid && pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) {
    return "pid " + std::to_string(pid) + " in " + file +
           " is alive (if that is not the service, remove the file)";
  }
  for (const ListenAddress* socket : {&config.socket, &config.hash_socket}) {
    if (someone_listens(*socket)) return "a process listens on " + socket->text();
  }
  return "";
}

}  // namespace cpa::state
