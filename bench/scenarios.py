"""The scenarios: seeding users and tokens, each wrk run in report order (with
its warm-up), the mixed run, and the registration mail check."""

import concurrent.futures
import json
import os
import re
import time

from bounds import django_hash
from config import (API, CONNECTIONS, ITERATIONS, MAIL_DRAIN_SECONDS, MIXED_PROBE_CONNECTIONS,
                    MIXED_PROBE_THREADS, PASSWORD, REFRESH_WARMUP_CONNECTIONS, THREADS,
                    USER_FORMAT, BenchError)
from wrk_driver import CpuWindow, Wrk

# The PostgreSQL parts: the scenarios the issue names, and the ceiling they are
# compared with (nginx alone, the mixed run: the SQLite part has them).
POSTGRESQL_KEYS = ("fastcgi", "health", "verify", "me", "refresh", "register", "obtain")

def seed_users(service, count):
    """Active users inserted straight into the database (sqlite3 or psycopg2),
    all sharing one password hash. (Registering them through users/,
    verify-code/ and public-set-password/ would cost one 600000-iteration
    hash each, for no extra coverage: the registration scenario exercises
    that path.)"""
    encoded = django_hash(PASSWORD, ITERATIONS)
    now = int(time.time())
    service.database.insert_users(
        [(USER_FORMAT % i, USER_FORMAT % i, encoded, now, now) for i in range(count)])
    return {"users": count, "method": "%s INSERT, one shared Django pbkdf2_sha256 hash "
                                      "(%d iterations) computed with hashlib"
                                      % (service.database.name, ITERATIONS)}


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
    pg_window = service.postgres.window(service.database_url) if service.postgres else None
    try:
        result = Wrk(service, log_dir, key, path, script,
                     dict(args, **extra.get("main_args", {})), seconds, THREADS,
                     CONNECTIONS).wait()
    finally:
        if pg_window:
            pg_window.stop_sampling()
    result["cpu"] = window.close(cores)
    result["warmup"] = warm
    service.settle()
    if pg_window:
        result["postgresql"] = pg_window.close(result["requests"])
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
    queued, sent = service.database.outbox_counts(prefix)
    files = 0
    to_line = re.compile(r"^To: (.*)$", re.M)
    for mail_dir in service.mail_dirs():  # two nodes: each mailer its own
        for name in os.listdir(mail_dir) if os.path.isdir(mail_dir) else []:
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


def run_scenarios(service, report, tokens, args, cores, only, keys=None, failures=None,
                  label=""):
    """Every scenario in report order (those of `keys` when given; a subset
    with --only), into report["scenarios"]; the mail check right after the
    registration run, into report["mail"]. Failures go to `failures`
    (report["failures"] unless given), each after `label`."""
    failures = report["failures"] if failures is None else failures
    log_dir = os.path.join(service.state_dir, "wrk")
    os.makedirs(log_dir)
    run_id = "bench-reg-%d" % int(time.time())
    for key, title, path, script, sargs in scenario_list(tokens):
        if keys is not None and key not in keys:
            continue
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
                failures.append("%sregistration mail not all delivered: %s"
                                % (label, report["mail"]))
