// `backup FILE [--force]`: a consistent copy of the live database, taken
// while the service serves. The copy is built as FILE.tmp (0600), checked,
// synced, and only then appears under its name, so FILE is never a
// half-written copy; an existing FILE is replaced only with --force.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "cli/cli.h"
#include "state/files.h"

namespace cpa::cli {

namespace {

// fsync of a file or a directory by path.
bool sync_path(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

Outcome system_failure(const std::string& what, const std::string& path) {
  return Outcome::Refused(what + " " + path + ": " + strerror(errno));
}

}  // namespace

Outcome backup(Context& ctx, const Args& args) {
  if (ctx.config.postgresql()) {
    return Outcome::Refused("backup copies a SQLite database; this one is PostgreSQL "
                            "(AUTH_DATABASE_URL): back it up with pg_dump");
  }
  const std::string& file = args.operands[0];
  const bool force = args.has("--force");
  struct stat existing;
  if (lstat(file.c_str(), &existing) == 0) {
    if (!force) return Outcome::Refused(file + " exists (--force replaces it)");
    if (!S_ISREG(existing.st_mode)) return Outcome::Refused(file + " exists and is not a regular file");
    struct stat live;
    if (stat(ctx.config.db_path.c_str(), &live) == 0 && live.st_dev == existing.st_dev &&
        live.st_ino == existing.st_ino) {
      return Outcome::Refused(file + " is the live database itself");
    }
  }

  // A temp file a failed run left behind is replaced; the copy starts empty
  // and private whatever the umask.
  const std::string tmp = file + ".tmp";
  unlink(tmp.c_str());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return system_failure("cannot create", tmp);
  bool created = fchmod(fd, 0600) == 0;
  close(fd);
  if (!created) return system_failure("cannot make private", tmp);
  auto discard = [&](Outcome why) {
    unlink(tmp.c_str());
    return why;
  };

  Status copied = ctx.store.backup_into(tmp);
  if (!copied.ok()) return discard(copied);
  Result<std::string> integrity = store::Store::integrity_check(tmp);
  if (!integrity.ok()) return discard(integrity.status());
  if (*integrity != "ok")
    return discard(Outcome::Refused("the copy failed its integrity check: " + *integrity));
  if (!sync_path(tmp, O_RDONLY)) return discard(system_failure("cannot sync", tmp));
  // link() fails when FILE appeared meanwhile: without --force nothing is
  // ever replaced, not even by a race.
  if (force ? rename(tmp.c_str(), file.c_str()) != 0 : link(tmp.c_str(), file.c_str()) != 0) {
    return discard(errno == EEXIST ? Outcome::Refused(file + " exists (--force replaces it)")
                                   : system_failure("cannot write", file));
  }
  if (!force) unlink(tmp.c_str());
  sync_path(state::directory_of(file), O_RDONLY | O_DIRECTORY);

  struct stat written;
  stat(file.c_str(), &written);
  char resolved[PATH_MAX];
  std::string where = realpath(file.c_str(), resolved) ? resolved : file;
  ctx.done = "backup of " + ctx.config.db_path + " written to " + printable(where) + " (" +
             std::to_string(written.st_size) + " bytes, integrity ok)";
  if (ctx.config.raw.count("AUTH_SECRET_KEY") && !ctx.config.raw.at("AUTH_SECRET_KEY").empty()) {
    ctx.note = "the secret key is AUTH_SECRET_KEY (environment or env file): keep that value with "
               "the copy; without it the copy's tokens and codes are invalid";
  } else {
    ctx.note = "keep " + ctx.config.secret_key_file +
               " with the copy: without that key the copy's tokens and codes are invalid";
  }
  return Outcome();
}

}  // namespace cpa::cli
