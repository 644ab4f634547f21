"""Driving wrk: one process per run, its result read from the scripts' done()
(common.lua), and the CPU the service, wrk and everything else used meanwhile."""

import json
import os
import resource
import subprocess
import time

from config import BENCH_DIR, POOL_NAMES, TICK, WRK, WRK_TIMEOUT, BenchError
from procfs import machine_busy_ticks

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
    """CPU used while a scenario ran: by the service (per process name, its
    PostgreSQL server's processes included), by wrk (children of this
    script), and by everything else on the machine."""

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
        workers = sum(svc.get(n, 0) for n in POOL_NAMES)
        return {
            "seconds": round(elapsed, 2),
            # CPU seconds of the roles the report divides by the requests served.
            "seconds_by_role": {"workers": workers, "nginx": svc.get("nginx", 0),
                                "postgres": svc.get("postgres", 0)},
            "pct_of_machine": {
                "workers": pct(workers),
                "nginx": pct(svc.get("nginx", 0)),
                "mailer": pct(svc.get("cpa-mailer", 0)),
                "postgres": pct(svc.get("postgres", 0)),
                "wrk": pct(wrk_s),
                "other_processes": pct(max(other, 0.0)),
                "idle": pct(max(capacity - busy / TICK, 0.0)),
            },
        }
