"""End-to-end harness: real nginx in front of the real worker pool and mailer,
with a real SMTP sink, each in a fresh temp dir on loopback.

    class MyTest(harness.ServiceTestCase):
        def test_x(self):
            r = self.api("POST", "users/", {"email": "a@example.com", "terms_accepted": True})
            self.assertEqual(r.status, 201)
            code = self.sink.code_for("a@example.com")

A ServiceTestCase class starts one SMTP sink and one service (`cryptopay-auth
run`, which renders the same nginx template as `make run`) in setUpClass and
stops both in a class cleanup, also when a test fails. Run with Debian's
/usr/bin/python3 (it has python3-aiosmtpd and python3-jsonschema); CTest sets
CPA_BINARY and CPA_SOURCE_DIR.

Every response Service.request receives is checked against docs/openapi.json
(contract.py): an answer the document does not declare fails the test that
received it, whatever that test asserts.
"""

import email
import email.policy
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import contract

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg"))
import postgres  # noqa: E402  (tests/pg)

SOURCE_DIR = os.environ.get(
    "CPA_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BINARY = os.environ.get("CPA_BINARY", os.path.join(SOURCE_DIR, "build", "cryptopay-auth"))
PYTHON = "/usr/bin/python3"
TEST_SECRET = "e2e-test-secret-key-0123456789"
# The sink refuses recipients at this domain for good (550).
REJECTED_DOMAIN = "@reject.invalid-domain.test"
CONTRACT = contract.Contract()


# CPA_E2E_DATABASE=postgresql (CTest label pg): every service of this process
# runs on PostgreSQL, a database of its own on one server this process starts
# (tests/pg/postgres.py) and stops at exit. Otherwise SQLite, as by default.
ON_POSTGRESQL = os.environ.get("CPA_E2E_DATABASE") == "postgresql"
_postgres_server = None


def postgres_server():
    """The process's PostgreSQL server, started at the first call."""
    global _postgres_server
    if _postgres_server is None:
        import atexit
        _postgres_server = postgres.PostgresServer().start()
        atexit.register(_postgres_server.close)
    return _postgres_server


# Tests of one engine's own behaviour are in the rows of that engine only
# (as tests/CMakeLists.txt puts whole files in rows): in the other row the
# method or class is not there to collect (unittest takes no None). Nothing
# skips.
def sqlite_only(test):
    """A test (method or class) of SQLite's own behaviour: its file, its backup."""
    return None if ON_POSTGRESQL else test


def postgresql_only(test):
    """A test (method or class) of PostgreSQL's own answers."""
    return test if ON_POSTGRESQL else None


class PgConnection:
    """Service.db() on PostgreSQL: sqlite3's execute/fetch shape over
    psycopg2 (Debian python3-psycopg2), ? placeholders included, in
    autocommit, so that the tests' SQL runs on both engines."""

    def __init__(self, url):
        import psycopg2
        import psycopg2.extras
        self._extras = psycopg2.extras
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True

    def execute(self, sql, params=()):
        cur = self.conn.cursor(cursor_factory=self._extras.DictCursor)
        cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
        return cur

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive
        self.body = body        # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


class SmtpSink:
    """tests/e2e/smtp_sink.py in a subprocess: stores every message it accepts."""

    def __init__(self, root, delay_ms=0):
        self.dir = os.path.join(root, "sink")
        self.refuse_file = os.path.join(root, "sink-refuse")
        self.hold_file = os.path.join(root, "sink-hold")
        self.delay_ms = delay_ms  # each message answered this late (per connection)
        self.proc = None
        self.port = None

    def start(self, port=0):
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(SOURCE_DIR, "tests", "e2e", "smtp_sink.py"),
             "--port", str(port), "--dir", self.dir, "--refuse-file", self.refuse_file,
             "--reject-rcpt", REJECTED_DOMAIN, "--hold-file", self.hold_file,
             "--delay-ms", str(self.delay_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError("SMTP sink did not start: %r" % line)
        self.port = int(line.split()[1])
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
        self.proc = None

    def refuse(self, on=True):
        if on:
            open(self.refuse_file, "w").close()
        elif os.path.exists(self.refuse_file):
            os.unlink(self.refuse_file)

    def hold(self, on=True):
        """While held, the relay takes each message's data but does not answer."""
        if on:
            open(self.hold_file, "w").close()
        elif os.path.exists(self.hold_file):
            os.unlink(self.hold_file)

    def _jsonl(self, name):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []

    def index(self):
        """One record per stored message, in the order they were stored."""
        return self._jsonl("index.jsonl")

    def arrivals(self):
        """One record per DATA received, in arrival order (before hold or delay)."""
        return self._jsonl("arrivals.jsonl")

    def messages(self, to=None):
        """Every stored message (email.message.EmailMessage), oldest first."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if not name.endswith(".eml"):
                continue
            with open(os.path.join(self.dir, name), "rb") as f:
                msg = email.message_from_bytes(f.read(), policy=email.policy.default)
            if to is None or msg["To"].strip().lower() == to.lower():
                out.append(msg)
        return out

    def count(self, to=None):
        return len(self.messages(to))

    def wait_for(self, to, count=1, timeout=10.0):
        """Waits until `to` has received `count` messages; returns the last."""
        msgs = wait_until(lambda: (lambda m: m if len(m) >= count else None)(self.messages(to)),
                          timeout, what="%d message(s) to %s" % (count, to))
        return msgs[count - 1]

    @staticmethod
    def body(msg):
        return msg.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def code_in(msg):
        m = re.search(r"\b(\d{6})\b", SmtpSink.body(msg))
        if not m:
            raise AssertionError("no code in message: %r" % SmtpSink.body(msg))
        return m.group(1)

    def code_for(self, to, count=None, timeout=10.0):
        """The code in the latest (or the count-th) message to `to`."""
        if count is None:
            count = max(1, self.count(to))
        return self.code_in(self.wait_for(to, count, timeout))


class Service:
    """`cryptopay-auth run`: nginx + the pool + the mailer, in a temp state dir."""

    def __init__(self, root, sink=None, env=None, run_as=None, binary=None):
        self.root = root
        self.binary = binary or BINARY  # the file `run` is started from
        self.run_as = run_as  # a user name: run the service as that user (when root)
        self.state_dir = os.path.join(root, "state")
        self.port = None
        self.proc = None
        self.sink = sink
        self.extra_env = dict(env or {})
        self.log_path = os.path.join(root, "service.log")
        self.database_url = postgres_server().create_database() if ON_POSTGRESQL else None

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        env.setdefault("CRYPTOPAY_AUTH_CONFIG", "")  # never this machine's /etc file
        env.update({
            "AUTH_STATE_DIR": self.state_dir,
            "AUTH_HTTP_PORT": str(self.port),
            "AUTH_WORKERS": "3",
            "AUTH_HASH_WORKERS": "2",
            "AUTH_SECRET_KEY": TEST_SECRET,
            "AUTH_PBKDF2_ITERATIONS": "1000",
            "AUTH_PIN_ITERATIONS": "1000",
            "AUTH_THROTTLE": "off",
        })
        if self.database_url:
            env["AUTH_DATABASE_URL"] = self.database_url
        if self.sink:
            env.update({"AUTH_MAIL_BACKEND": "smtp",
                        "AUTH_SMTP_URL": "smtp://127.0.0.1:%d" % self.sink.port})
        # "{state}" in a value stands for this service's state dir.
        env.update({k: v.replace("{state}", self.state_dir) for k, v in self.extra_env.items()})
        return env

    def start(self, timeout=20.0):
        self.port = self.port or free_port()
        self.log = open(self.log_path, "ab")
        # Started by root, nginx's workers run unprivileged: like /var/lib
        # above a real state dir, the temp root must let them pass (mkdtemp
        # makes it 0700); the service keeps the state dir itself private.
        os.chmod(self.root, 0o711)
        extra = {}
        if self.run_as and os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam(self.run_as)
            for dirpath, dirnames, filenames in os.walk(self.root):
                for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
                    os.chown(name, pw.pw_uid, pw.pw_gid)
            extra = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        self.proc = subprocess.Popen([self.binary, "run"], env=self.environment(),
                                     stdout=self.log, stderr=subprocess.STDOUT, **extra)
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("service exited with %s; log:\n%s"
                                   % (self.proc.returncode, self.read_log()))
            try:
                return self.request("GET", "/api/v1/auth/health/").status == 200
            except OSError:
                return False
        wait_until(ready, timeout, what="the service to answer health/")
        return self

    def served_by(self, request_id, timeout=5.0):
        """The role ("worker" or "hasher") whose log line has this request id."""
        import re as _re
        def find():
            m = _re.search(r"(\w+)\[\d+\] info rid=%s " % _re.escape(request_id), self.read_log())
            return m.group(1) if m else None
        return wait_until(find, timeout, what="the log line of request " + request_id)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=25.0):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_everything()
        code = self.proc.returncode
        self.proc = None
        self.log.close()
        return code

    def kill_everything(self):
        """Last resort: SIGKILL the master and every process it started."""
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    @property
    def master_pid(self):
        return self.proc.pid

    def children(self, name=None):
        """Pids of the master's direct children, optionally by comm name."""
        return [p for p in child_pids(self.master_pid) if name is None or comm(p) == name]

    @property
    def db_path(self):
        return self.environment().get("AUTH_DB_PATH", os.path.join(self.state_dir, "auth.db"))

    def db(self):
        """A direct connection to the service's database (for assertions and
        for ageing rows: the service's clock is real)."""
        if self.database_url:
            return PgConnection(self.database_url)
        conn = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    def cli(self, *args, stdin=None, env=None):
        e = self.environment()
        e.update(env or {})
        return subprocess.run([self.binary] + list(args), env=e, input=stdin, capture_output=True,
                              text=True, timeout=60)

    def request(self, method, path, body=None, headers=None, timeout=30, source=None):
        """Raw HTTP through nginx. `body` is bytes or str; nothing is added.
        `source`: the loopback address to send from (127.0.0.2, ...), which
        nginx then sees as the client's address. The answer must be one that
        docs/openapi.json declares (contract.py), else AssertionError."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            response = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        CONTRACT.check(method, path, response.status, response.headers, response.body,
                       headers or {})
        return response

    def api(self, method, route, data=None, token=None, headers=None, form=False, source=None):
        """A request to /api/v1/auth/<route>; `data` sent as JSON (or a form)."""
        h = dict(headers or {})
        body = None
        if data is not None:
            if form:
                import urllib.parse
                body = urllib.parse.urlencode(data)
                h.setdefault("Content-Type", "application/x-www-form-urlencoded")
            else:
                body = json.dumps(data)
                h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        return self.request(method, "/api/v1/auth/" + route, body, h, source=source)


def raw_request(port, data, tls_host=None, timeout=10):
    """Bytes sent as they are (what http.client refuses to send: a raw %00,
    TRACE, an over-long line), the answer parsed; `tls_host` speaks TLS. The
    answer is checked against docs/openapi.json as Service.request's are,
    for the method and target of the request line."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if tls_host:
            sock = ssl._create_unverified_context().wrap_socket(sock, server_hostname=tls_host)
        sock.sendall(data)
        r = http.client.HTTPResponse(sock, method=data.split(b" ", 1)[0].decode("latin-1"))
        r.begin()
        response = Response(r.status, r.headers, r.read())
    finally:
        sock.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    line = head[0].split(" ")
    method, target = (line[0], line[1]) if len(line) >= 2 else ("GET", "/")
    sent = dict(h.split(":", 1) for h in head[1:] if ":" in h)
    CONTRACT.check(method, target, response.status, response.headers, response.body,
                   {name.strip(): value.strip() for name, value in sent.items()})
    return response


def child_pids(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    out = []
    for c in child_pids(pid):
        out.append(c)
        out.extend(descendants(c))
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except OSError:
        return False


class ServiceTestCase(unittest.TestCase):
    """One SMTP sink and one service per test class."""

    service_env = {}
    with_sink = True
    run_as = None  # e.g. "nobody": tests that need permissions to mean something

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="cpa-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.sink = None
        if cls.with_sink:
            cls.sink = SmtpSink(cls.root).start()
            cls.addClassCleanup(cls.sink.stop)
        cls.service = Service(cls.root, cls.sink, cls.service_env, cls.run_as,
                              cls.service_binary())
        cls.addClassCleanup(cls.service.stop)
        cls.service.start()

    @classmethod
    def service_binary(cls):
        """The binary the service is started from (cls.root exists already)."""
        return BINARY

    # --- shortcuts
    def api(self, *args, **kwargs):
        return self.service.api(*args, **kwargs)

    def assertBody(self, response, status, expected):
        """Status and the exact JSON bytes (DRF's compact rendering)."""
        expected_bytes = json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()
        self.assertEqual((response.status, response.body), (status, expected_bytes), response)

    _counter = 0

    @classmethod
    def unique_email(cls, prefix="user"):
        ServiceTestCase._counter += 1
        return "%s%d-%d@example.com" % (prefix, ServiceTestCase._counter, os.getpid())

    def register(self, email_address):
        """POST users/ and return the emailed code."""
        before = self.sink.count(email_address)
        r = self.api("POST", "users/", {"email": email_address, "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        return self.sink.code_for(email_address, count=before + 1)

    def create_user(self, email_address=None, password="Gago123@"):
        """A fully registered, active user; returns (email, password)."""
        email_address = email_address or self.unique_email()
        code = self.register(email_address)
        r = self.api("POST", "verify-code/",
                     {"email": email_address, "code": code, "purpose": "email_verification"})
        self.assertEqual(r.status, 200, r)
        r = self.api("POST", "public-set-password/",
                     {"email": email_address, "password": password, "repeat_password": password})
        self.assertEqual(r.status, 200, r)
        return email_address, password

    def login(self, email_address, password="Gago123@"):
        r = self.api("POST", "token/obtain/", {"email": email_address, "password": password})
        self.assertEqual(r.status, 200, r)
        return r.json()


# --- JWT helpers for tests that forge or inspect tokens.

def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token):
    header, payload, signature = token.split(".")
    return b64url_decode(header), b64url_decode(payload), signature


def forge_jwt(payload, key=TEST_SECRET, header=None):
    """An HS256 token over compact JSON, signed with `key` (the test secret)."""
    import hashlib
    import hmac
    h = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = (b64url(json.dumps(h, separators=(",", ":")).encode()) + "."
                     + b64url(json.dumps(payload, separators=(",", ":")).encode()))
    sig = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)
