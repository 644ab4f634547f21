"""What every part of the bench shares: paths, the load's shape, the seeded
users' credentials, and the error that means the bench itself could not run."""

import os

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
