#!/usr/bin/python3
"""`make bench`: load-tests the service as `make run` starts it, with wrk.

    /usr/bin/python3 bench/run.py [--binary build/cryptopay-auth] [--only a,b]

Steps, in order, each in the module named:

  1. describe the machine and time one PBKDF2-SHA256 at 600000 iterations
     twice: OpenSSL's PKCS5_PBKDF2_HMAC (Python's hashlib calls it) and ours
     (`cryptopay-auth time-hash`, what the service spends) (bounds.py);
  2. start `cryptopay-auth run` on a free port with a fresh state dir
     (build/bench-state), AUTH_THROTTLE=off and AUTH_BENCH=1, every other
     setting at its default (workers = cores, 600000 iterations, file mail);
  3. seed active users straight into SQLite, all with one Django hash
     computed here once (600000 iterations, so logins cost what they cost in
     production), then log in through token/obtain/ for an access token and
     one refresh token per wrk connection (service.py, scenarios.py);
  4. run the scenarios with wrk (2 threads, 32 connections, BENCH_SECONDS
     each after a BENCH_WARMUP warm-up), settling between them until the
     workers are idle; the mail check follows the registration scenario
     (scenarios.py, wrk_driver.py);
  5. read each worker's and the mailer's peak RSS, stop the service (SIGTERM
     to the master, also on failure or Ctrl-C) and check nothing is left;
  6. then the same on PostgreSQL (unless BENCH_POSTGRESQL=0), on a server
     started here before anything else with durable settings (pgserver.py;
     a server that cannot start fails the bench): the FastCGI ceiling,
     health/, verify, users/me, refresh, registration and logins, first with
     `cryptopay-auth run` on a fresh database (one node), then with two
     `serve` nodes on TCP behind one nginx on another fresh database
     (nodes.py), each seeded as in 3;
  7. judge each figure against its target and the bound measured in this
     run, print a markdown report and write it as JSON (build/bench.json)
     (report.py, report_postgresql.py).

Exit status: 0 when every scenario got only the responses it expects with no
socket errors and every registration email was delivered; 1 otherwise; 2 when
the bench itself could not run. Performance targets missed are reported, not
failed.
"""

import argparse
import json
import os
import re
import signal
import sys
import time

from bounds import describe_machine, time_pbkdf2
from config import CONNECTIONS, POOL_NAMES, SOURCE_DIR, THREADS, WRK, BenchError
from nodes import Nodes
from pgserver import BenchPostgres
from report import count_log_warnings, judge, print_report, print_tail
from report_postgresql import judge_postgresql, print_postgresql
from scenarios import POSTGRESQL_KEYS, run_scenarios, seed
from service import Service
from wrk_driver import Wrk


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(SOURCE_DIR, "build", "cryptopay-auth"))
    ap.add_argument("--state-dir", default=os.path.join(SOURCE_DIR, "build", "bench-state"))
    ap.add_argument("--json", default=os.path.join(SOURCE_DIR, "build", "bench.json"))
    ap.add_argument("--only", default="",
                    help="comma-separated scenario keys (nginx,fastcgi,health,verify,me,refresh,"
                         "register,obtain,mixed); the FastCGI ceiling always runs")
    ap.add_argument("--parts", default="sqlite,postgresql",
                    help="sqlite, postgresql (one node, then two), or both (the default); "
                         "BENCH_POSTGRESQL=0 leaves postgresql out")
    args = ap.parse_args()
    args.parts = set(filter(None, args.parts.split(",")))
    if not args.parts or args.parts - {"sqlite", "postgresql"}:
        ap.error("--parts takes sqlite, postgresql or both")
    if os.environ.get("BENCH_POSTGRESQL", "1") == "0":
        args.parts.discard("postgresql")
        if not args.parts:
            ap.error("BENCH_POSTGRESQL=0 with --parts postgresql leaves nothing to run")
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


def run_part(label, service, part, report, args, cores, only, keys=None):
    """One service from start to stop: seeded, its scenarios run into
    part["scenarios"] (and part["mail"]), its workers' memory read; its
    failures go to report["failures"], after `label`."""
    failures = report["failures"]
    part.setdefault("scenarios", {})
    part.setdefault("mail", None)
    try:
        print("bench: %s: starting on port %d (state: %s)"
              % (label, service.port, service.state_dir), flush=True)
        service.start()
        workers_at_start = sorted(p for p, c in service.processes() if c in POOL_NAMES)
        part["workers"] = len(workers_at_start)  # both pools
        part["pool"] = {name: len(service.processes(name)) for name in POOL_NAMES}
        tokens = seed(service, part, only)
        run_scenarios(service, part, tokens, args, cores, only, keys, failures,
                      "" if part is report else label + ": ")
        part["memory"] = service.memory()
        workers_at_end = sorted(p for p, c in service.processes() if c in POOL_NAMES)
        if workers_at_end != workers_at_start:
            part["worker_restarts"] = {"before": workers_at_start, "after": workers_at_end}
            failures.append("%s: workers were restarted during the run (see %s)"
                            % (label, service.log_path))
    except KeyboardInterrupt:
        failures.append("interrupted")
        raise
    finally:
        Wrk.kill_all()
        killed = service.stop()
        if killed:
            failures.append("%s: still running after the master stopped (killed): %s"
                            % (label, ", ".join(killed)))
        part["service_log_warnings"] = count_log_warnings(service.log_path)
    for row in part["scenarios"].values():
        if row["errors"]:
            failures.append("%s: %s: %d unexpected responses, %d socket errors, %d starved; "
                            "e.g. %s" % (label, row["title"], row["unexpected"],
                                         row["socket_error_count"], row["starved"],
                                         row["unexpected_samples"][:2]))


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

    postgres = None
    if "postgresql" in args.parts:
        # First, so that a server that cannot start fails the bench at once.
        print("bench: starting PostgreSQL...", flush=True)
        postgres = BenchPostgres().start()
    try:
        return run_parts(args, btype, only, postgres, started)
    finally:
        if postgres:
            postgres.close()


def run_parts(args, btype, only, postgres, started):
    machine = describe_machine()
    cores = machine["nproc"]
    print("bench: %d CPUs (%s); timing PBKDF2..." % (cores, machine["cpu_model"]), flush=True)
    pbkdf2 = time_pbkdf2(cores, os.path.abspath(args.binary))

    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine, "build_type": btype, "pbkdf2": pbkdf2,
        "seconds": args.seconds, "warmup": args.warmup,
        "threads": THREADS, "connections": CONNECTIONS,
        "scenarios": {}, "mail": None, "memory": [], "failures": [],
        "json_path": args.json,
    }
    failures = report["failures"]
    binary = os.path.abspath(args.binary)
    state_dir = os.path.abspath(args.state_dir)
    if "sqlite" in args.parts:
        run_part("SQLite", Service(binary, state_dir), report, report, args, cores, only)
    if postgres:
        pg = report["postgresql"] = {"server": postgres.describe()}
        node = Service(binary, state_dir + "-postgresql", postgres,
                       postgres.create_database("bench_node"))
        pg["node"] = {"title": "PostgreSQL, one node (run)"}
        run_part(pg["node"]["title"], node, pg["node"], report, args, cores, only,
                 POSTGRESQL_KEYS)
        # The nginx of `run` just measured, its upstreams the example's.
        nodes = Nodes(binary, state_dir + "-nodes", postgres,
                      postgres.create_database("bench_nodes"), node.state_dir)
        pg["nodes"] = {"title": "PostgreSQL, two nodes behind one nginx"}
        run_part(pg["nodes"]["title"], nodes, pg["nodes"], report, args, cores, only,
                 POSTGRESQL_KEYS)

    report["machine"]["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    report["elapsed_s"] = time.monotonic() - started
    judge(report)
    judge_postgresql(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print_report(report)
    print_postgresql(report)
    print_tail(report)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted; the service was stopped", file=sys.stderr)
        sys.exit(130)
