"""The bench's PostgreSQL: a throwaway server (tests/pg/postgres.py) with the
durability of a real one, and what it says about each run: its processes'
CPU, its backends' round trips, transactions, WAL flushes, and where its
backends spend their time (sampled from pg_stat_activity).

Settings. The tests' server runs with fsync, synchronous_commit and
full_page_writes off (nothing to keep after a crash); the bench puts them
back to PostgreSQL's defaults (on): a commit returns once its WAL is flushed
to disk, as SQLite's synchronous=FULL (the service's setting) returns once
its WAL frames are fsynced, so the two are compared like with like.

One setting differs from the packaged defaults: autovacuum_naptime 1s, not
60s. A run grows the tokens table a hundredfold in seconds (production takes
days); the workers' prepared statements are planned on the statistics of
the tables as seeded, and with 60s those stay until autovacuum first visits
the fresh database, at a time no run controls. Measured: tokens analyzed at
82 rows, the refresh statements (UPDATE tokens ... WHERE jti = $1, the
token-and-user SELECT) ran as sequential scans of the growing table (auto_explain),
0.27-0.30 ms each instead of 0.01, and refresh fell from 3.5k/s to 0.6-0.7k/s.
With 1s, autovacuum analyzes as the table grows and the plans follow.

Every other setting is the packaged default (shared_buffers 128MB,
wal_level replica); the server listens on a unix socket only, in a
directory under /tmp."""

import os
import sys
import threading
import time

from config import SOURCE_DIR, TICK, BenchError
from procfs import cpu_ticks, cpu_ticks_split, descendants, read_proc

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "pg"))
import postgres  # noqa: E402  (tests/pg/postgres.py: PostgresServer)

SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
            "autovacuum_naptime": "1s"}
SAMPLE_INTERVAL_S = 0.05


def voluntary_switches(pid):
    text = read_proc(pid, "status") or ""
    for line in text.splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    return 0


class BenchPostgres:
    """The server, started once for the whole bench; a fresh database per part."""

    def __init__(self):
        self.server = postgres.PostgresServer(SETTINGS)
        self.version = None

    def start(self):
        try:
            self.server.start()
            self.version = self.server.psql("SHOW server_version").strip()
            shown = {k: self.server.psql("SHOW %s" % k).strip() for k in SETTINGS}
        except Exception as e:  # noqa: BLE001 - whatever it is, the bench cannot run its part
            self.close()
            raise BenchError("PostgreSQL could not start (BENCH_POSTGRESQL=0 skips that part): "
                             "%s" % e)
        if shown != SETTINGS:
            self.close()
            raise BenchError("PostgreSQL runs with %s, not %s" % (shown, SETTINGS))
        return self

    def postmaster_pid(self):
        with open(os.path.join(self.server.dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def processes(self):
        pid = self.postmaster_pid()
        return [pid] + descendants(pid)

    def ticks(self):
        return sum(cpu_ticks(pid) for pid in self.processes())

    def create_database(self, prefix):
        return self.server.create_database(prefix)

    def window(self, url):
        return PgWindow(self, url)

    def describe(self):
        return {"version": self.version, "settings": dict(SETTINGS),
                "socket_dir": self.server.dir}

    def close(self):
        self.server.close()


class PgWindow:
    """What the server did during one measured run of the service on `url`:
    open before wrk starts, close after the service has settled."""

    def __init__(self, server, url):
        import psycopg2
        self.server = server
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True  # each look a fresh statistics snapshot
        self.backends = self.client_backends()
        self.switches0 = {pid: voluntary_switches(pid) for pid in self.backends}
        self.cpu0 = self.cpu()
        self.stats0 = self.stats()
        self.samples = {}
        self.sample_count = 0
        self.stopping = threading.Event()
        self.sampler = threading.Thread(target=self.sample, daemon=True)
        self.sampler_conn = psycopg2.connect(url)
        self.sampler_conn.autocommit = True
        self.sampler.start()

    def client_backends(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
                        "AND application_name = 'cryptopay-auth'")
            return [r[0] for r in cur.fetchall()]

    def cpu(self):
        """CPU ticks: the service's backends (user, system) and every other
        process of the server (the postmaster, WAL writer, checkpointer,
        autovacuum, the bench's own two connections)."""
        user = system = 0
        for pid in self.backends:
            u, s = cpu_ticks_split(pid)
            user, system = user + u, system + s
        return {"backends_user": user, "backends_system": system,
                "rest": self.server.ticks() - user - system}

    def stats(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                        "WHERE datname = current_database()")
            commits, rollbacks = cur.fetchone()
            cur.execute("SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal")
            records, wal_bytes, writes, syncs = cur.fetchone()
        return {"commits": commits, "rollbacks": rollbacks, "wal_records": records,
                "wal_bytes": int(wal_bytes), "wal_writes": writes, "wal_syncs": syncs}

    def sample(self):
        """What each of the service's backends is doing, every 50 ms."""
        query = ("SELECT CASE WHEN state = 'idle' THEN 'idle' "
                 "WHEN state = 'idle in transaction' THEN 'in transaction, awaiting the worker' "
                 "WHEN wait_event_type IS NULL THEN 'running' "
                 "WHEN wait_event_type = 'Lock' THEN 'writer lock (' || wait_event || ')' "
                 "WHEN wait_event LIKE 'WAL%' THEN 'WAL flush (' || wait_event || ')' "
                 "ELSE wait_event_type || ':' || wait_event END, count(*) "
                 "FROM pg_stat_activity WHERE backend_type = 'client backend' "
                 "AND application_name = 'cryptopay-auth' GROUP BY 1")
        with self.sampler_conn.cursor() as cur:
            while not self.stopping.wait(SAMPLE_INTERVAL_S):
                cur.execute(query)
                for what, n in cur.fetchall():
                    self.samples[what] = self.samples.get(what, 0) + n
                self.sample_count += 1

    def stop_sampling(self):
        """At the end of wrk's run: afterwards the backends are idle."""
        self.stopping.set()
        self.sampler.join()
        self.sampler_conn.close()

    def close(self, requests):
        if not self.stopping.is_set():
            self.stop_sampling()
        # A backend reports its statistics at most once a second, and an idle
        # one within a second: wait for the last of the run's.
        time.sleep(1.1)
        stats1 = self.stats()
        self.conn.close()
        delta = {k: stats1[k] - self.stats0[k] for k in stats1}
        switches = sum(voluntary_switches(pid) - n for pid, n in self.switches0.items())
        cpu1 = self.cpu()
        per = lambda n: round(n / requests, 2) if requests else None
        total = sum(self.samples.values()) or 1
        return {
            "backends": len(self.backends),
            "totals": delta,
            "cpu_us_per_request": {k: round(1e6 * (cpu1[k] - self.cpu0[k]) / TICK / requests, 1)
                                   if requests else None for k in cpu1},
            "per_request": {"commits": per(delta["commits"]),
                            "wal_syncs": per(delta["wal_syncs"]),
                            "wal_bytes": per(delta["wal_bytes"]),
                            "backend_sleeps": per(switches)},
            # Each sample counts every backend once: shares of backend-time.
            "backend_time_pct": {k: round(100.0 * v / total, 1)
                                 for k, v in sorted(self.samples.items(), key=lambda kv: -kv[1])},
            "samples": self.sample_count,
        }
