// `serve` and `run`: the service in the foreground, handed to the master
// (proc/master.h), which prepares the state dir and supervises until stopped.
// Starting the master is all the admin commands need of proc/.
#include "cli/cli.h"
#include "proc/master.h"

namespace cpa::cli {

namespace {

proc::MasterOptions master_options(const Setup& setup) {
  proc::MasterOptions options;
  options.config_file = setup.file.path;  // read again on SIGHUP
  return options;
}

}  // namespace

int serve(const Setup& setup, const Args&) {
  return proc::run_master(*setup.config, master_options(setup));
}

int run_with_nginx(const Setup& setup, const Args&) {
  proc::MasterOptions options = master_options(setup);
  options.with_nginx = true;
  return proc::run_master(*setup.config, options);
}

}  // namespace cpa::cli
