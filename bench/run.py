#!/usr/bin/python3
"""`make bench`: load-tests the service as `make run` starts it, with wrk.

    /usr/bin/python3 bench/run.py [--binary build/cryptopay-auth] [--only a,b]

Steps, in order (each is one function below):

  1. describe the machine and time one PBKDF2-SHA256 at 600000 iterations
     (Python's hashlib, which calls OpenSSL's PKCS5_PBKDF2_HMAC like the
     service does);
  2. start `cryptopay-auth run` on a free port with a fresh state dir
     (build/bench-state), AUTH_THROTTLE=off and AUTH_BENCH=1, every other
     setting at its default (workers = cores x 2, 600000 iterations, file mail);
  3. seed active users straight into SQLite, all with one Django hash
     computed here once (600000 iterations, so logins cost what they cost in
     production), then log in through token/obtain/ for an access token and
     one refresh token per wrk connection;
  4. run the scenarios with wrk (2 threads, 32 connections, BENCH_SECONDS
     each after a BENCH_WARMUP warm-up), settling between them until the
     workers are idle; the mail check follows the registration scenario;
  5. read each worker's and the mailer's peak RSS, stop the service (SIGTERM
     to the master, also on failure or Ctrl-C) and check nothing is left;
  6. print a markdown report and write it as JSON (build/bench.json).

Exit status: 0 when every scenario got only the responses it expects with no
socket errors and every registration email was delivered; 1 otherwise; 2 when
the bench itself could not run. Performance targets missed are reported, not
failed.
"""

import argparse
import base64
import concurrent.futures
import ctypes
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
WRK = "/usr/bin/wrk"
API = "/api/v1/auth/"

ITERATIONS = 600000            # the service's default AUTH_PBKDF2_ITERATIONS
# The two worker pools: every route, and the routes that spend a password hash.
POOL_NAMES = ("cpa-worker", "cpa-hasher")
PASSWORD = "Bench-Pass-2024!"
USER_FORMAT = "bench-user-%04d@example.com"
THREADS = 2
CONNECTIONS = 32
MIXED_PROBE_THREADS = 1
MIXED_PROBE_CONNECTIONS = 4
REFRESH_WARMUP_CONNECTIONS = 8  # each warm-up connection needs a token family of its own
WRK_TIMEOUT = "30s"             # = nginx's fastcgi_read_timeout; wrk leaves slower
                                # answers out of its latency histogram
MAIL_DRAIN_SECONDS = 60

TICK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The bench itself could not run (not a failed scenario)."""


# --------------------------------------------------------------------------
# 1. The machine and the cost of one password hash

def describe_machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    wrk_version = subprocess.run([WRK, "--version"], capture_output=True, text=True).stdout
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True).stderr
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "kernel": platform.release(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "wrk": wrk_version.split("[")[0].strip(),
        "nginx": nginx.strip(),
        "openssl": __import__("ssl").OPENSSL_VERSION,
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


def time_pbkdf2(cores):
    """One hash on one core (the best of 5: interference only adds time), and
    the rate `cores` processes reach together (what the pool can reach)."""
    salt = b"benchsaltbenchsalt1234"
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, ITERATIONS)
        samples.append(time.perf_counter() - start)
    one = min(samples)
    per_process = 3
    code = ("import hashlib\nfor _ in range(%d): hashlib.pbkdf2_hmac('sha256', b'x', b'%s', %d)"
            % (per_process, salt.decode(), ITERATIONS))
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(cores)]
    for p in procs:
        p.wait()
    parallel_rate = cores * per_process / (time.perf_counter() - start)
    return {
        "method": "Python hashlib.pbkdf2_hmac (%s, OpenSSL PKCS5_PBKDF2_HMAC)"
                  % hashlib.pbkdf2_hmac.__module__,
        "iterations": ITERATIONS,
        "one_hash_s": one,
        "samples_s": samples,
        "cores": cores,
        "target_rps": cores / one,
        "parallel_processes_rps": parallel_rate,
    }


def django_hash(password, iterations):
    alphabet = string.ascii_letters + string.digits
    salt = "".join(secrets.choice(alphabet) for _ in range(22))
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt, base64.b64encode(key).decode())


# --------------------------------------------------------------------------
# /proc helpers

def read_proc(pid, name):
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            return f.read()
    except OSError:
        return None


def comm(pid):
    text = read_proc(pid, "comm")
    return text.strip() if text else None


def children(pid):
    text = read_proc(pid, "task/%d/children" % pid)
    return [int(p) for p in text.split()] if text else []


def descendants(pid):
    out = []
    for c in children(pid):
        out.append(c)
        out.extend(descendants(c))
    return out


def cpu_ticks(pid):
    text = read_proc(pid, "stat")
    if not text:
        return 0
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def alive_as(pid, name):
    """True while `pid` runs (not a zombie) and still has the name we saw."""
    text = read_proc(pid, "stat")
    if not text:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z" and comm(pid) == name


def kb_field(text, field):
    """The "Name:   123 kB" value of /proc/<pid>/status or smaps_rollup."""
    m = re.search(r"^%s:\s+(\d+) kB" % field, text or "", re.M)
    return int(m.group(1)) if m else None


def status_kb(pid, field):
    return kb_field(read_proc(pid, "status"), field)


def machine_busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


# --------------------------------------------------------------------------
# 2. The service

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_parent_death_signal():
    # Runs in the child before exec: should this script die without its
    # cleanup (SIGKILL), the master still gets SIGTERM and stops everything.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Service:
    """`cryptopay-auth run` (nginx + worker pool + mailer) in its own session."""

    def __init__(self, binary, state_dir):
        self.binary = binary
        self.state_dir = state_dir
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(state_dir, "service.log")
        self.seen = {}  # pid -> comm of every process of the service we saw

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        env.update({
            "CRYPTOPAY_AUTH_CONFIG": "",  # the defaults, not this machine's /etc file
            "AUTH_STATE_DIR": self.state_dir,
            "AUTH_HTTP_PORT": str(self.port),
            "AUTH_THROTTLE": "off",
            "AUTH_BENCH": "1",
            "AUTH_MAIL_BACKEND": "file",
        })
        # Experiments only: BENCH_AUTH_X=v runs the service with AUTH_X=v. The
        # report that `make bench` prints is of the defaults.
        env.update({k[len("BENCH_"):]: v for k, v in os.environ.items()
                    if k.startswith("BENCH_AUTH_")})
        return env

    def start(self, timeout=30.0):
        if os.path.exists(self.state_dir):
            shutil.rmtree(self.state_dir)
        os.makedirs(self.state_dir)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "run"], env=self.environment(), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=set_parent_death_signal)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError("the service exited with status %s; see %s"
                                 % (self.proc.returncode, self.log_path))
            try:
                if self.get(API + "health/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("the service did not answer health/ in %.0fs" % timeout)
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
        """The master's descendants now, as (pid, comm), optionally by name."""
        out = []
        for pid in descendants(self.proc.pid):
            c = comm(pid)
            if c and (name is None or c == name):
                out.append((pid, c))
        return out

    def note_processes(self):
        self.seen[self.proc.pid] = comm(self.proc.pid)
        for pid, c in self.processes():
            self.seen[pid] = c

    def cpu_by_role(self):
        """CPU ticks used so far, summed per process name."""
        out = {"cryptopay-auth": cpu_ticks(self.proc.pid)}
        for pid, c in self.processes():
            out[c] = out.get(c, 0) + cpu_ticks(pid)
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
        killed = []
        deadline = time.monotonic() + 5
        for pid, name in self.seen.items():
            if pid == self.proc.pid:
                continue
            while alive_as(pid, name) and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive_as(pid, name):
                os.kill(pid, signal.SIGKILL)
                killed.append("%s[%d]" % (name, pid))
        self.proc = None
        return killed


# --------------------------------------------------------------------------
# 3. Users and tokens

def seed_users(service, count):
    """Active users inserted with sqlite3, all sharing one password hash.
    (Registering them through users/, verify-code/ and public-set-password/
    would cost one 600000-iteration hash each, for no extra coverage: the
    registration scenario exercises that path.)"""
    encoded = django_hash(PASSWORD, ITERATIONS)
    now = int(time.time())
    db = sqlite3.connect(os.path.join(service.state_dir, "auth.db"), timeout=30)
    with db:
        db.executemany(
            "INSERT INTO users (email, email_key, password, terms_accepted, email_verified, "
            "verified_at, is_active, date_joined) VALUES (?, ?, ?, 1, 1, ?, 1, ?)",
            [(USER_FORMAT % i, USER_FORMAT % i, encoded, now, now) for i in range(count)])
    db.close()
    return {"users": count, "method": "sqlite3 INSERT, one shared Django pbkdf2_sha256 hash "
                                      "(%d iterations) computed with hashlib" % ITERATIONS}


def obtain(service, index):
    status, body = service.request("POST", API + "token/obtain/",
                                   {"email": USER_FORMAT % index, "password": PASSWORD})
    if status != 200:
        raise BenchError("token/obtain/ for a seeded user answered %d: %r" % (status, body[:200]))
    return json.loads(body)


def mint_refresh_tokens(service, count, users, path):
    """One login (one token family) per line of `path`."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        pairs = list(pool.map(lambda i: obtain(service, i % users), range(count)))
    with open(path, "w") as f:
        for pair in pairs:
            f.write(pair["refresh"] + "\n")
    return path


# --------------------------------------------------------------------------
# 4. wrk

class Wrk:
    """One wrk process; its report comes from the scripts' done() (common.lua)."""

    running = set()

    def __init__(self, service, log_dir, name, path, script, args, seconds, threads, connections):
        self.name = name
        self.log_path = os.path.join(log_dir, "wrk-%s.txt" % name)
        cmd = [WRK, "-t", str(threads), "-c", str(connections), "-d", "%gs" % seconds,
               "--timeout", WRK_TIMEOUT, "--latency", "-s", os.path.join(BENCH_DIR, script),
               service.url(path), "--"] + ["%s=%s" % kv for kv in args.items()]
        self.log = open(self.log_path, "w")
        self.log.write("$ " + " ".join(cmd) + "\n")
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        Wrk.running.add(self.proc)

    def wait(self):
        out, _ = self.proc.communicate()
        Wrk.running.discard(self.proc)
        self.log.write(out)
        self.log.close()
        result = None
        samples = []
        for line in out.splitlines():
            if line.startswith("BENCH_RESULT "):
                result = json.loads(line[len("BENCH_RESULT "):])
            elif line.startswith("BENCH_SAMPLE "):
                samples.append(line[len("BENCH_SAMPLE "):])
        if self.proc.returncode != 0 or result is None:
            raise BenchError("wrk %s failed (status %s); see %s"
                             % (self.name, self.proc.returncode, self.log_path))
        sock = result["socket_errors"]
        result["socket_error_count"] = sum(sock.values())
        result["errors"] = result["unexpected"] + result["starved"] + result["socket_error_count"]
        result["unexpected_samples"] = samples
        return result

    @classmethod
    def kill_all(cls):
        for p in list(cls.running):
            if p.poll() is None:
                p.kill()
                p.wait()
        cls.running.clear()


class CpuWindow:
    """CPU used while a scenario ran: by the service (per process name), by
    wrk (children of this script), and by everything else on the machine."""

    def __init__(self, service):
        self.service = service
        self.t0 = time.monotonic()
        self.busy0 = machine_busy_ticks()
        self.svc0 = service.cpu_by_role()
        self.children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.self0 = resource.getrusage(resource.RUSAGE_SELF)

    def close(self, cores):
        elapsed = time.monotonic() - self.t0
        busy = machine_busy_ticks() - self.busy0
        svc1 = self.service.cpu_by_role()
        svc = {k: (svc1.get(k, 0) - self.svc0.get(k, 0)) / TICK for k in svc1}
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        wrk_s = (ch.ru_utime + ch.ru_stime) - (self.children0.ru_utime + self.children0.ru_stime)
        self_s = (me.ru_utime + me.ru_stime) - (self.self0.ru_utime + self.self0.ru_stime)
        capacity = elapsed * cores
        other = busy / TICK - sum(svc.values()) - wrk_s - self_s
        pct = lambda s: round(100.0 * s / capacity, 1)
        return {
            "seconds": round(elapsed, 2),
            "pct_of_machine": {
                "workers": pct(sum(svc.get(n, 0) for n in POOL_NAMES)),
                "nginx": pct(svc.get("nginx", 0)),
                "mailer": pct(svc.get("cpa-mailer", 0)),
                "wrk": pct(wrk_s),
                "other_processes": pct(max(other, 0.0)),
                "idle": pct(max(capacity - busy / TICK, 0.0)),
            },
        }


# --------------------------------------------------------------------------
# 5. Scenarios

def scenario_list(tokens):
    """(key, title, path, script, args, expected) in the order of the report."""
    json_body = lambda d: json.dumps(d, separators=(",", ":"))
    return [
        ("nginx", "1. nginx ceiling: GET /bench/nginx", "/bench/nginx", "fixed.lua", {}),
        ("fastcgi", "2. FastCGI ceiling: GET nope/ (404)", API + "nope/", "fixed.lua",
         {"expect": "404"}),
        ("health", "3. GET health/", API + "health/", "fixed.lua", {}),
        ("verify", "4. POST token/verify/", API + "token/verify/", "fixed.lua",
         {"method": "POST", "body": json_body({"token": tokens["access"]})}),
        ("me", "5. GET users/me/", API + "users/me/", "fixed.lua", {"token": tokens["access"]}),
        ("refresh", "6. POST token/refresh/ (rotating)", API + "token/refresh/", "refresh.lua",
         {"threads": THREADS}),
        ("register", "7. POST users/ (new emails)", API + "users/", "register.lua", {}),
        ("obtain", "8. POST token/obtain/ (600000 it.)", API + "token/obtain/", "obtain.lua",
         {"threads": THREADS, "users": tokens["users"], "user_format": USER_FORMAT,
          "password": PASSWORD}),
        ("mixed", "9. mixed", None, None, None),
    ]


def run_plain(service, log_dir, key, path, script, args, seconds, warmup, cores, **extra):
    """Warm-up, settle, the measured run (with its CPU window), settle.
    Returns the measured run's result, with the warm-up's under "warmup"."""
    warm = None
    if warmup > 0:
        wa = dict(args, **extra.get("warmup_args", {}))
        warm = Wrk(service, log_dir, key + "-warmup", path, script, wa, warmup, THREADS,
                   extra.get("warmup_connections", CONNECTIONS)).wait()
        service.settle()
    window = CpuWindow(service)
    result = Wrk(service, log_dir, key, path, script, dict(args, **extra.get("main_args", {})),
                 seconds, THREADS, CONNECTIONS).wait()
    result["cpu"] = window.close(cores)
    result["warmup"] = warm
    service.settle()
    return result


def run_mixed(service, log_dir, tokens, seconds, warmup, cores):
    """token/obtain/ saturating the pool (2 threads, 32 connections) while a
    second wrk (1 thread, 4 connections) measures token/verify/."""
    args = {s[0]: s[4] for s in scenario_list(tokens)}
    obtain_args, verify_args = args["obtain"], args["verify"]
    window = CpuWindow(service)
    saturate = Wrk(service, log_dir, "mixed-obtain", API + "token/obtain/", "obtain.lua",
                   obtain_args, warmup + seconds + 1, THREADS, CONNECTIONS)
    try:
        time.sleep(max(warmup, 1))  # the accept queue fills up first
        probe = Wrk(service, log_dir, "mixed-verify", API + "token/verify/", "fixed.lua",
                    verify_args, seconds, MIXED_PROBE_THREADS, MIXED_PROBE_CONNECTIONS).wait()
    finally:
        obtain_result = saturate.wait()
    cpu = window.close(cores)
    obtain_result["cpu"] = cpu
    probe["cpu"] = cpu
    service.settle()
    return obtain_result, probe


def wait_for_mail(service, prefix, accepted):
    """Waits for the outbox to drain, then compares what was accepted (201s
    seen by wrk), what was queued (outbox rows) and what was delivered (.eml
    files), for the addresses starting with `prefix`."""
    start = time.monotonic()
    pending = failed = None
    while time.monotonic() - start < MAIL_DRAIN_SECONDS:
        h = service.health()
        if h:
            pending, failed = h["mail_queue"]["pending"], h["mail_queue"]["failed"]
            if pending == 0:
                break
        time.sleep(0.25)
    drain = time.monotonic() - start
    db = sqlite3.connect(os.path.join(service.state_dir, "auth.db"), timeout=30)
    queued = db.execute("SELECT count(*) FROM outbox WHERE recipient LIKE ?",
                        (prefix + "%",)).fetchone()[0]
    sent = db.execute("SELECT count(*) FROM outbox WHERE recipient LIKE ? AND status = 'sent'",
                      (prefix + "%",)).fetchone()[0]
    db.close()
    mail_dir = os.path.join(service.state_dir, "mail")
    files = 0
    to_line = re.compile(r"^To: (.*)$", re.M)
    for name in os.listdir(mail_dir):
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(mail_dir, name), "rb") as f:
            head = f.read(4096).decode("utf-8", "replace").split("\r\n\r\n", 1)[0]
        m = to_line.search(head.replace("\r\n", "\n"))
        if m and m.group(1).strip().startswith(prefix):
            files += 1
    ok = pending == 0 and failed == 0 and files == queued == sent and queued >= accepted
    return {"accepted_201": accepted, "outbox_rows": queued, "outbox_sent": sent,
            "eml_files": files, "pending": pending, "failed": failed,
            "drain_seconds": round(drain, 2), "all_delivered": ok}


# --------------------------------------------------------------------------
# 6. Report

TARGETS = {  # the targets, as fractions of the FastCGI ceiling
    "verify": 0.70, "me": 0.70, "refresh": 0.40, "register": 0.15,
}
OBTAIN_TARGET = 0.90             # of cores / one-hash time
MIXED_P99_MS = 20.0
WORKER_RSS_KB = 10 * 1024
NOISY_PCT = 10                   # "other processes" CPU share that makes a run suspect


def judge(report):
    """Adds `target` and `met` to each row; returns the rows in report order."""
    rows = report["scenarios"]
    ceiling = rows.get("fastcgi", {}).get("rps")
    target_rps = report["pbkdf2"]["target_rps"]
    for key, row in rows.items():
        row["ratio_to_fastcgi"] = row["rps"] / ceiling if ceiling else None
        if key in TARGETS and ceiling:
            row["target"] = "≥ %d%% of FastCGI" % (TARGETS[key] * 100)
            row["met"] = row["ratio_to_fastcgi"] >= TARGETS[key]
            if key == "register":
                mail = report.get("mail") or {}
                row["target"] += ", all mail delivered"
                row["met"] = row["met"] and bool(mail.get("all_delivered"))
        elif key in ("obtain", "mixed_obtain"):
            row["ratio_to_hash_target"] = row["rps"] / target_rps
            # In the mixed run the logins share the CPU with the verify load on
            # purpose (the cheap routes come first): only verify's p99 is judged.
            if key == "obtain":
                row["target"] = "≥ 90%% of %.1f/s" % target_rps
                row["met"] = row["ratio_to_hash_target"] >= OBTAIN_TARGET
        elif key == "mixed_verify":
            row["target"] = "p99 ≤ %g ms" % MIXED_P99_MS
            row["met"] = row["p99_ms"] <= MIXED_P99_MS
    return rows


def print_report(report):
    rows = judge(report)
    m = report["machine"]
    out = []
    out.append("## CryptoPay Auth benchmark (%s)" % report["started_at"])
    out.append("")
    out.append("Machine: %d CPUs, %s, %s GB, kernel %s; %s; %s. Workers: %d. Each run: wrk "
               "-t%d -c%d, %gs after a %gs warm-up."
               % (m["nproc"], m["cpu_model"], m["memory_gb"], m["kernel"], m["wrk"], m["nginx"],
                  report["workers"], THREADS, CONNECTIONS, report["seconds"], report["warmup"]))
    out.append("")
    out.append("| scenario | requests/s | p50 ms | p99 ms | errors | × FastCGI | target | "
               "met | other CPU % |")
    out.append("|---|---:|---:|---:|---:|---:|---|---|---:|")
    for key, row in rows.items():
        ratio = row.get("ratio_to_fastcgi")
        met = row.get("met")
        out.append("| %s | %.1f | %.2f | %.2f | %d | %s | %s | %s | %.0f |" % (
            row["title"], row["rps"], row["p50_ms"], row["p99_ms"], row["errors"],
            "%.2f" % ratio if ratio is not None else "–", row.get("target", "–"),
            "–" if met is None else ("yes" if met else "**no**"),
            row["cpu"]["pct_of_machine"]["other_processes"]))
    out.append("")
    p = report["pbkdf2"]
    out.append("token/obtain/ target: %d cores ÷ %.1f ms (one PBKDF2-SHA256, %d iterations, %s) "
               "= %.2f/s; %d processes hashing at once reach %.2f/s."
               % (p["cores"], p["one_hash_s"] * 1000, p["iterations"], p["method"],
                  p["target_rps"], p["cores"], p["parallel_processes_rps"]))
    for key in ("obtain", "mixed_obtain"):
        if key in rows:
            out.append("- %s: %.2f/s = %.0f%% of the target, %.0f%% of what %d processes "
                       "hashing at once reach"
                       % (rows[key]["title"], rows[key]["rps"],
                          100 * rows[key]["ratio_to_hash_target"],
                          100 * rows[key]["rps"] / p["parallel_processes_rps"], p["cores"]))
    if report.get("mail"):
        mail = report["mail"]
        out.append("")
        out.append("Mail (registration): %d accepted (201), %d queued, %d sent, %d .eml files, "
                   "pending %s, failed %s, drained in %.1fs after the run: %s."
                   % (mail["accepted_201"], mail["outbox_rows"], mail["outbox_sent"],
                      mail["eml_files"], mail["pending"], mail["failed"], mail["drain_seconds"],
                      "all delivered" if mail["all_delivered"] else "**NOT all delivered**"))
    if report.get("memory"):
        out.append("")
        out.append("Peak RSS after the run (VmHWM; now: VmRSS, Pss, private dirty), target "
                   "≤ 10 MB per worker:")
        for mem in report["memory"]:
            out.append("- %s[%d]: %.1f MB (%.1f / %.1f / %.1f MB)%s" % (
                mem["name"], mem["pid"], mem["vm_hwm_kb"] / 1024, mem["vm_rss_kb"] / 1024,
                mem["pss_kb"] / 1024, mem["private_dirty_kb"] / 1024,
                "" if mem["name"] not in POOL_NAMES or mem["vm_hwm_kb"] <= WORKER_RSS_KB
                else " **over**"))
    out.append("")
    out.append("CPU during each measured run, % of the machine "
               "(workers / nginx / mailer / wrk / other processes / idle):")
    for key, row in rows.items():
        c = row["cpu"]["pct_of_machine"]
        out.append("- %s: %s / %s / %s / %s / %s / %s" % (
            row["title"], c["workers"], c["nginx"], c["mailer"], c["wrk"],
            c["other_processes"], c["idle"]))
    if report.get("service_log_warnings"):
        out.append("")
        out.append("Service log warnings: " + "; ".join(
            "%s (x%d)" % kv for kv in sorted(report["service_log_warnings"].items())))
    noisy = [row["title"] for row in rows.values()
             if row["cpu"]["pct_of_machine"]["other_processes"] > NOISY_PCT]
    if noisy:
        out.append("")
        out.append("Warning: other processes used more than %d%% of the machine during %d of "
                   "%d runs (column \"other CPU %%\"; it includes the kernel's own I/O "
                   "threads): CPU-bound rows are low by up to that much. Rerun on a quiet "
                   "machine (or, as root, nice -n -15 make bench)."
                   % (NOISY_PCT, len(noisy), len(rows)))
    if report["failures"]:
        out.append("")
        out.append("FAILED:")
        for f in report["failures"]:
            out.append("- " + f)
    out.append("")
    out.append("Total: %.0fs. JSON: %s" % (report["elapsed_s"], report["json_path"]))
    print("\n".join(out), flush=True)


# --------------------------------------------------------------------------
# The run, as main() strings it together: start, seed, scenarios, memory, stop.

def seed(service, report, only):
    """Users, an access token, and the refresh token files (one login per
    line: one for the measured run's connections, one for the warm-up's)."""
    users = max(64, 2 * CONNECTIONS)
    report["seed"] = seed_users(service, users)
    tokens = {"access": obtain(service, 0)["access"], "users": users,
              "refresh_main": None, "refresh_warm": None}
    if not only or "refresh" in only:
        print("bench: minting %d refresh token families through token/obtain/..."
              % (CONNECTIONS + REFRESH_WARMUP_CONNECTIONS), flush=True)
        tokens["refresh_main"] = mint_refresh_tokens(
            service, CONNECTIONS, users, os.path.join(service.state_dir, "refresh-main.txt"))
        tokens["refresh_warm"] = mint_refresh_tokens(
            service, REFRESH_WARMUP_CONNECTIONS, users,
            os.path.join(service.state_dir, "refresh-warm.txt"))
    service.settle()
    return tokens


def run_scenarios(service, report, tokens, args, cores, only):
    """Every scenario in report order (a subset with --only); the mail check
    right after the registration run."""
    log_dir = os.path.join(service.state_dir, "wrk")
    os.makedirs(log_dir)
    run_id = "bench-reg-%d" % int(time.time())
    for key, title, path, script, sargs in scenario_list(tokens):
        if only and key not in only and key != "fastcgi":
            continue
        print("bench: %s" % title, flush=True)
        if key == "mixed":
            o, v = run_mixed(service, log_dir, tokens, args.seconds, args.warmup, cores)
            o["title"] = "9. mixed: token/obtain/ (2 thr, 32 conn)"
            v["title"] = "9. mixed: token/verify/ meanwhile (1 thr, 4 conn)"
            report["scenarios"]["mixed_obtain"] = o
            report["scenarios"]["mixed_verify"] = v
            continue
        extra = {}
        if key == "refresh":
            extra = {"warmup_args": {"tokens": tokens["refresh_warm"]},
                     "main_args": {"tokens": tokens["refresh_main"]},
                     "warmup_connections": REFRESH_WARMUP_CONNECTIONS}
        elif key == "register":
            extra = {"warmup_args": {"prefix": run_id + "-w"},
                     "main_args": {"prefix": run_id + "-m"}}
        result = run_plain(service, log_dir, key, path, script, sargs, args.seconds,
                           args.warmup, cores, **extra)
        result["title"] = title
        report["scenarios"][key] = result
        if key == "register":
            # The warm-up's registrations are checked too.
            warm_ok = result["warmup"]["ok"] if result["warmup"] else 0
            print("bench: waiting for the outbox to drain...", flush=True)
            report["mail"] = wait_for_mail(service, run_id, warm_ok + result["ok"])
            if not report["mail"]["all_delivered"]:
                report["failures"].append("registration mail not all delivered: %s"
                                          % report["mail"])


# --------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(SOURCE_DIR, "build", "cryptopay-auth"))
    ap.add_argument("--state-dir", default=os.path.join(SOURCE_DIR, "build", "bench-state"))
    ap.add_argument("--json", default=os.path.join(SOURCE_DIR, "build", "bench.json"))
    ap.add_argument("--only", default="",
                    help="comma-separated scenario keys (nginx,fastcgi,health,verify,me,refresh,"
                         "register,obtain,mixed); the FastCGI ceiling always runs")
    args = ap.parse_args()
    try:
        args.seconds = float(os.environ.get("BENCH_SECONDS", "10"))
        args.warmup = float(os.environ.get("BENCH_WARMUP", "2"))
    except ValueError:
        ap.error("BENCH_SECONDS and BENCH_WARMUP must be numbers of seconds")
    if args.seconds <= 0 or args.warmup < 0:
        ap.error("BENCH_SECONDS must be > 0 and BENCH_WARMUP >= 0")
    return args


def build_type(binary):
    cache = os.path.join(os.path.dirname(os.path.abspath(binary)), "CMakeCache.txt")
    try:
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def on_sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    # Also when started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    if not os.access(WRK, os.X_OK):
        raise BenchError("%s is missing: WITH_EXTRAS=1 scripts/install-deps.sh" % WRK)
    if not os.access(args.binary, os.X_OK):
        raise BenchError("%s is missing: make build" % args.binary)
    btype = build_type(args.binary)
    if btype != "Release":
        print("warning: %s is a %s build, not Release" % (args.binary, btype), file=sys.stderr)
    only = set(filter(None, args.only.split(",")))

    machine = describe_machine()
    cores = machine["nproc"]
    print("bench: %d CPUs (%s); timing PBKDF2..." % (cores, machine["cpu_model"]), flush=True)
    pbkdf2 = time_pbkdf2(cores)

    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine, "build_type": btype, "pbkdf2": pbkdf2,
        "seconds": args.seconds, "warmup": args.warmup,
        "threads": THREADS, "connections": CONNECTIONS,
        "scenarios": {}, "mail": None, "memory": [], "failures": [],
        "json_path": args.json,
    }
    failures = report["failures"]
    service = Service(os.path.abspath(args.binary), os.path.abspath(args.state_dir))
    try:
        print("bench: starting the service on port %d (state: %s)"
              % (service.port, service.state_dir), flush=True)
        service.start()
        workers_at_start = sorted(p for p, c in service.processes() if c in POOL_NAMES)
        report["workers"] = len(workers_at_start)
        tokens = seed(service, report, only)
        run_scenarios(service, report, tokens, args, cores, only)
        report["memory"] = service.memory()
        workers_at_end = sorted(p for p, c in service.processes() if c in POOL_NAMES)
        if workers_at_end != workers_at_start:
            report["worker_restarts"] = {"before": workers_at_start, "after": workers_at_end}
            failures.append("workers were restarted during the run (see %s)" % service.log_path)
    except KeyboardInterrupt:
        failures.append("interrupted")
        raise
    finally:
        Wrk.kill_all()
        killed = service.stop()
        if killed:
            failures.append("still running after the master stopped (killed): "
                            + ", ".join(killed))
        report["service_log_warnings"] = count_log_warnings(service.log_path)

    for key, row in report["scenarios"].items():
        if row["errors"]:
            failures.append("%s: %d unexpected responses, %d socket errors, %d starved; e.g. %s"
                            % (row["title"], row["unexpected"], row["socket_error_count"],
                               row["starved"], row["unexpected_samples"][:2]))
    report["elapsed_s"] = time.monotonic() - started
    judge(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print_report(report)
    return 1 if failures else 0


def count_log_warnings(path):
    counts = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r"\] (warn|error) (.{0,60})", line)
                if m:
                    key = m.group(1) + ": " + re.sub(r"\d+", "N", m.group(2))
                    counts[key] = counts.get(key, 0) + 1
    except OSError:
        pass
    return counts


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted; the service was stopped", file=sys.stderr)
        sys.exit(130)
