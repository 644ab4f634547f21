// `serve` and `run`: the service in the foreground, handed to the master
// (proc/master.h), which prepares the state dir and supervises until stopped.
#include "cli/cli.h"
#include "proc/master.h"

namespace cpa::cli {

namespace {

int start(const Setup& setup, bool with_nginx) {
  proc::MasterOptions options;
  options.with_nginx = with_nginx;
  options.config_file = setup.file.path;  // read again on SIGHUP
  return proc::run_master(*setup.config, options);
}

}  // namespace

int serve(const Setup& setup, const Args&) { return start(setup, false); }

int run_with_nginx(const Setup& setup, const Args&) { return start(setup, true); }

}  // namespace cpa::cli
