"""A throwaway PostgreSQL server for the tests: initdb into a temp dir,
pg_ctl start listening on a unix socket in that dir only (no TCP), stop and
remove on exit. PostgreSQL refuses to run as root: as root (CI), the server
runs as the `postgres` user, which Debian's postgresql package creates.

    with PostgresServer() as pg:
        url = pg.create_database("e2e")   # postgresql://...?host=<dir>

As a program, it runs a command with CPA_TEST_POSTGRESQL set to the server's
`postgres` database, then stops the server; the command's exit status is its
own. A server that cannot start is a failure (exit 1), never a skip:

    /usr/bin/python3 tests/pg/postgres.py unit_tests --gtest_filter=...
"""

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid


def _bin_dir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql; "
                           "scripts/install-deps.sh installs it)")
    return os.path.dirname(found[-1])


class PostgresServer:
    def __init__(self, settings=None):
        self.bin = _bin_dir()
        self.dir = None
        self.settings = dict(settings or {})
        self.running = False

    # The server's own user: postgres when we are root.
    def _as_owner(self, argv):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="cpa-pg-", dir="/tmp")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = os.path.join(self.dir, "data")
        subprocess.run(self._as_owner([os.path.join(self.bin, "initdb"), "-D", data,
                                       "--auth=trust", "-U", "postgres", "-E", "UTF8",
                                       "--no-sync", "--locale=C.UTF-8"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        options = {"listen_addresses": "''", "unix_socket_directories": self.dir,
                   # A test server: nothing to keep after a crash.
                   "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                   "max_connections": "300"}
        options.update(self.settings)
        self.options = " ".join("-c %s=%s" % (k, v) for k, v in options.items())
        self._ctl("start", "-o", self.options, "-l", os.path.join(self.dir, "server.log"))
        self.running = True
        return self

    def _ctl(self, *args):
        argv = self._as_owner([os.path.join(self.bin, "pg_ctl"), "-D",
                               os.path.join(self.dir, "data"), "-w", "-t", "60"] + list(args))
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            log = ""
            try:
                with open(os.path.join(self.dir, "server.log")) as f:
                    log = f.read()[-2000:]
            except OSError:
                pass
            raise RuntimeError("pg_ctl %s failed: %s\n%s" % (args[0], r.stdout, log))

    def stop(self, mode="fast"):
        if self.running:
            self._ctl("stop", "-m", mode)
            self.running = False

    def restart_later(self):
        """Starts a server stopped by stop() again, on the same data and socket
        (the same options: without them it would listen elsewhere)."""
        self._ctl("start", "-o", self.options, "-l", os.path.join(self.dir, "server.log"))
        self.running = True

    def url(self, database="postgres"):
        return "postgresql:///%s?host=%s&user=postgres" % (database, self.dir)

    def psql(self, sql, database="postgres"):
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-At", "-v",
                            "ON_ERROR_STOP=1", "-h", self.dir, "-U", "postgres", "-d", database,
                            "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr)
        return r.stdout

    def create_database(self, prefix="cpa"):
        name = "%s_%s" % (prefix, uuid.uuid4().hex[:12])
        self.psql("CREATE DATABASE %s" % name)
        return self.url(name)

    def close(self):
        try:
            self.stop("immediate")
        finally:
            if self.dir:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def main(argv):
    if not argv:
        print("usage: postgres.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    try:
        server = PostgresServer().start()
    except Exception as e:  # noqa: BLE001 - any failure to start fails the test
        print("PostgreSQL could not start: %s" % e, file=sys.stderr)
        return 1
    try:
        env = dict(os.environ, CPA_TEST_POSTGRESQL=server.url())
        return subprocess.call(argv, env=env)
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
