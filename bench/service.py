"""Service control: `cryptopay-auth run` (nginx + worker pool + mailer) started
in its own session on a free port, asked over HTTP, watched through /proc,
stopped (SIGTERM to the master; whatever outlives it is killed by pid).
What the scenarios ask of a service (HTTP, its processes, its database, its
mail) is in Served, which the two nodes of nodes.py share."""

import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from config import API, POOL_NAMES, BenchError
from database import PostgresDatabase, SqliteDatabase
from procfs import alive_as, comm, cpu_ticks, descendants, kb_field, read_proc, status_kb

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_parent_death_signal():
    # Runs in the child before exec: should this script die without its
    # cleanup (SIGKILL), the master still gets SIGTERM and stops everything.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def service_environment(state_dir, database_url=None, **settings):
    """The environment of the service: its defaults (not this machine's /etc
    file), file mail, `settings` (AUTH_X=v), and last BENCH_AUTH_X=v as
    AUTH_X=v (experiments only: the report that `make bench` prints is of
    the defaults)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    env.update({
        "CRYPTOPAY_AUTH_CONFIG": "",
        "AUTH_STATE_DIR": state_dir,
        "AUTH_MAIL_BACKEND": "file",
    })
    if database_url:
        env["AUTH_DATABASE_URL"] = database_url
    env.update(settings)
    env.update({k[len("BENCH_"):]: v for k, v in os.environ.items()
                if k.startswith("BENCH_AUTH_")})
    return env


def fresh_dir(path):
    """An empty state dir, 0700 as the service wants it (else it warns)."""
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path, mode=0o700)


class Served:
    """What the scenarios use of a running service: HTTP on 127.0.0.1:port,
    its processes (the trees under roots()), its database, its mail dirs,
    and the PostgreSQL server it runs on (None on SQLite)."""

    port = None
    state_dir = None
    log_path = None
    database = None
    postgres = None

    def __init__(self):
        self.seen = {}  # pid -> comm of every process of the service we saw
        self.roots_stopped = set()  # roots stopped (and waited for) by stop()

    def roots(self):
        raise NotImplementedError

    def mail_dirs(self):
        raise NotImplementedError

    def wait_until_serving(self, exited, timeout=30.0):
        """health/ answers 200 (`exited()` names a process that died meanwhile),
        and nginx answers /bench/nginx itself."""
        deadline = time.monotonic() + timeout
        while True:
            dead = exited()
            if dead:
                raise BenchError("%s; see %s" % (dead, self.log_path))
            try:
                if self.get(API + "health/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("the service did not answer health/ in %.0fs; see %s"
                                 % (timeout, self.log_path))
            time.sleep(0.1)
        status, _ = self.get("/bench/nginx")
        if status != 200:
            raise BenchError("GET /bench/nginx answered %d: the nginx template has no "
                             "AUTH_BENCH location" % status)
        self.note_processes()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, token=None, timeout=60):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path, timeout=5)

    def health(self):
        status, body = self.get(API + "health/")
        return json.loads(body) if status == 200 else None

    def processes(self, name=None):
        """The roots' descendants now, as (pid, comm), optionally by name."""
        out = []
        for root in self.roots():
            for pid in descendants(root):
                c = comm(pid)
                if c and (name is None or c == name):
                    out.append((pid, c))
        return out

    def note_processes(self):
        for root in self.roots():
            self.seen[root] = comm(root)
        for pid, c in self.processes():
            self.seen[pid] = c

    def cpu_by_role(self):
        """CPU ticks used so far, summed per process name: the roots are
        "cryptopay-auth" (a master) or "nginx"; the PostgreSQL server's
        processes, all of them, "postgres"."""
        out = {}
        for root in self.roots():
            c = "nginx" if comm(root) == "nginx" else "cryptopay-auth"
            out[c] = out.get(c, 0) + cpu_ticks(root)
        for pid, c in self.processes():
            out[c] = out.get(c, 0) + cpu_ticks(pid)
        if self.postgres:
            out["postgres"] = self.postgres.ticks()
        return out

    def worker_ticks(self):
        return sum(cpu_ticks(pid) for pid, c in self.processes() if c in POOL_NAMES)

    def memory(self):
        """Resident memory of the workers and the mailer, in kB: peak (VmHWM)
        and current (VmRSS), which count shared library pages in full, and the
        process's own share (Pss) and private dirty pages (smaps_rollup)."""
        out = []
        for pid, c in self.processes():
            if c in POOL_NAMES or c == "cpa-mailer":
                rollup = read_proc(pid, "smaps_rollup")
                out.append({"pid": pid, "name": c, "vm_hwm_kb": status_kb(pid, "VmHWM"),
                            "vm_rss_kb": status_kb(pid, "VmRSS"),
                            "pss_kb": kb_field(rollup, "Pss") or 0,
                            "private_dirty_kb": kb_field(rollup, "Private_Dirty") or 0})
        return sorted(out, key=lambda m: (m["name"], m["pid"]))

    def settle(self, timeout=20.0):
        """Waits until the workers stop using CPU: requests that a finished wrk
        left in flight (or queued on the socket) must not slow the next run."""
        deadline = time.monotonic() + timeout
        before = self.worker_ticks()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.worker_ticks()
            if now - before <= 1:
                return
            before = now

    def reap(self, deadline):
        """Kills (by pid) every process seen that is still alive at the
        deadline; returns their names."""
        killed = []
        for pid, name in self.seen.items():
            if pid in self.roots_stopped:
                continue
            while alive_as(pid, name) and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive_as(pid, name):
                os.kill(pid, signal.SIGKILL)
                killed.append("%s[%d]" % (name, pid))
        return killed


class Service(Served):
    """`cryptopay-auth run` (nginx + worker pool + mailer) in its own session,
    on SQLite in its state dir, or on PostgreSQL (`postgres`, a BenchPostgres,
    and `database_url`, a database of it)."""

    def __init__(self, binary, state_dir, postgres=None, database_url=None):
        super().__init__()
        self.binary = binary
        self.state_dir = state_dir
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(state_dir, "service.log")
        self.postgres = postgres
        self.database_url = database_url
        self.database = (PostgresDatabase(database_url) if database_url
                         else SqliteDatabase(os.path.join(state_dir, "auth.db")))

    def roots(self):
        return [self.proc.pid] if self.proc else []

    def mail_dirs(self):
        return [os.path.join(self.state_dir, "mail")]

    def environment(self):
        return service_environment(self.state_dir, self.database_url,
                                   AUTH_HTTP_PORT=str(self.port), AUTH_THROTTLE="off",
                                   AUTH_BENCH="1")

    def start(self, timeout=30.0):
        fresh_dir(self.state_dir)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "run"], env=self.environment(), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=set_parent_death_signal)
        log.close()

        def exited():
            if self.proc.poll() is not None:
                return "the service exited with status %s" % self.proc.returncode
            return None
        self.wait_until_serving(exited, timeout)

    def stop(self, timeout=40.0):
        """SIGTERM to the master, then waits; kills (by pid) whatever outlives it.
        Returns the names of the processes that had to be killed."""
        if self.proc is None:
            return []
        if self.proc.poll() is None:
            self.note_processes()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.roots_stopped.add(self.proc.pid)
        killed = self.reap(time.monotonic() + 5)
        self.proc = None
        return killed
