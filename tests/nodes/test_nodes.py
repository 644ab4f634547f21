"""Several nodes on one PostgreSQL (README "Several nodes behind one nginx").

One PostgreSQL server started here (tests/pg/postgres.py; a server that
cannot start fails the test), two `cryptopay-auth serve` nodes on it (each
its own state dir and mailer, the same secret, TCP on 127.0.0.1), one SMTP
sink, and the production site file (nginx/cryptopay-auth.site.conf) with
the upstreams of nginx/cryptopay-auth.nodes.conf.example in front: `front`
has both nodes, `via_a` and `via_b` one node each, so that a test can say
which node serves a request. Every answer is held to docs/openapi.json.

PostgreSQL-only by nature: one CTest row (tests/CMakeLists.txt) runs it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import http.client
import ssl

import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg"))
import postgres  # noqa: E402  (tests/pg)

NGINX_DIR = os.path.join(harness.SOURCE_DIR, "nginx")
NGINX = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "nginx"
UNAVAILABLE = {"detail": "Service temporarily unavailable."}
INVALID_CODE = {"code": ["Invalid or expired code."]}
TOO_MANY = {"code": ["Too many attempts. Request a new code."]}


def compact(body):
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def nodes_upstreams(main_servers, hash_servers):
    """The example's two upstream blocks, its node addresses replaced."""
    with open(os.path.join(NGINX_DIR, "cryptopay-auth.nodes.conf.example")) as f:
        example = f.read()
    blocks = example[example.index("upstream cryptopay_auth_pool {"):]
    for prefix, servers in (("9000", main_servers), ("9001", hash_servers)):
        for node, server in zip(("10.0.0.11", "10.0.0.12"), servers):
            assert "server %s:%s " % (node, prefix) in blocks
            blocks = blocks.replace("server %s:%s " % (node, prefix), "server %s " % server)
        for node in ("10.0.0.11", "10.0.0.12")[len(servers):]:  # fewer nodes: drop the line
            blocks = re.sub(r"\n *server %s:%s [^\n]*" % (re.escape(node), prefix), "", blocks)
    return blocks


def site_with_upstreams(site, upstreams):
    """The site file with its two upstream blocks replaced by `upstreams`."""
    start = site.index("upstream cryptopay_auth_pool {")
    end = site.index("}\n", site.index("upstream cryptopay_auth_hash_pool {")) + 2
    return site[:start] + upstreams + site[end:]


class Site:
    """The production site file run by an nginx of its own, in `root`, in
    front of the given upstream servers ("127.0.0.1:PORT")."""

    def __init__(self, root, name, main_servers, hash_servers, cert, key):
        self.dir = os.path.join(root, name)
        os.makedirs(os.path.join(self.dir, "tmp"))
        os.chmod(self.dir, 0o755)
        self.http_port, self.https_port = harness.free_port(), harness.free_port()
        with open(os.path.join(NGINX_DIR, "cryptopay-auth.site.conf")) as f:
            site = f.read()
        site = site_with_upstreams(site, nodes_upstreams(main_servers, hash_servers))
        for old, new in (
                ("/etc/ssl/cryptopay-auth/fullchain.pem", cert),
                ("/etc/ssl/cryptopay-auth/privkey.pem", key),
                ("root /var/www/letsencrypt;", "root %s;" % self.dir),
                ("/var/log/nginx/cryptopay-auth.access.log", os.path.join(self.dir, "access.log")),
                ("/etc/nginx/snippets/", NGINX_DIR + "/"),
                ("    listen [::]:80;\n", ""), ("    listen [::]:443 ssl http2;\n", ""),
                ("listen 80;", "listen 127.0.0.1:%d;" % self.http_port),
                ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % self.https_port),
                # The per-address limits would count every test client as one
                # (all on 127.0.0.1): an admin raises them for clients behind
                # one address; here they go.
                ("limit_req zone=cpa_anon burst=20 nodelay;", ""),
                ("limit_req zone=cpa_hash burst=10 nodelay;", "")):
            assert old in site, old
            site = site.replace(old, new)
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write(site)
        tmp = os.path.join(self.dir, "tmp")
        self.conf = os.path.join(self.dir, "nginx.conf")
        user = ""
        if os.geteuid() == 0:
            user = "user nobody %s;" % ("nogroup" if _group_exists("nogroup") else "nobody")
        with open(self.conf, "w") as f:
            f.write("%s\nworker_processes 1;\npid %s/nginx.pid;\nevents {}\nhttp {\n"
                    "  client_body_temp_path %s/b; fastcgi_temp_path %s/f; proxy_temp_path %s/p;\n"
                    "  uwsgi_temp_path %s/u; scgi_temp_path %s/s;\n  access_log off;\n"
                    "  include %s/site.conf;\n}\n"
                    % (user, self.dir, tmp, tmp, tmp, tmp, tmp, self.dir))
        self.proc = None

    def nginx_t(self):
        return subprocess.run([NGINX, "-t", "-p", self.dir, "-c", self.conf, "-e",
                               os.path.join(self.dir, "err.log")], capture_output=True, text=True)

    def start(self):
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf, "-e",
                                      os.path.join(self.dir, "err.log"), "-g", "daemon off;"])
        harness.wait_until(lambda: self._https("GET", "/api/v1/auth/schema/", quiet=True),
                           20, what="nginx " + self.dir)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _https(self, method, path, body=None, headers=None, quiet=False):
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=60,
                                           context=ssl._create_unverified_context())
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return harness.Response(r.status, r.headers, r.read())
        except OSError:
            if quiet:
                return None
            raise
        finally:
            conn.close()

    def api(self, method, route, data=None, token=None):
        headers = {"Host": "auth.example.com"}
        body = None
        if data is not None:
            body = json.dumps(data)
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        path = "/api/v1/auth/" + route
        r = self._https(method, path, body, headers)
        harness.CONTRACT.check(method, path, r.status, r.headers, r.body, headers)
        return r


def _group_exists(name):
    import grp
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


class Node:
    """`cryptopay-auth serve` on two TCP ports of 127.0.0.1."""

    def __init__(self, root, name, database_url, sink):
        self.name = name
        self.root = os.path.join(root, name)
        os.makedirs(self.root)
        self.port, self.hash_port = harness.free_port(), harness.free_port()
        self.log_path = os.path.join(self.root, "serve.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        env.update({
            "CRYPTOPAY_AUTH_CONFIG": "",
            "AUTH_STATE_DIR": os.path.join(self.root, "state"),
            "AUTH_SOCKET": "tcp:127.0.0.1:%d" % self.port,
            "AUTH_HASH_SOCKET": "tcp:127.0.0.1:%d" % self.hash_port,
            "AUTH_DATABASE_URL": database_url,
            "AUTH_SECRET_KEY": harness.TEST_SECRET,
            "AUTH_WORKERS": "2",
            "AUTH_HASH_WORKERS": "1",
            "AUTH_PBKDF2_ITERATIONS": "1000",
            "AUTH_PIN_ITERATIONS": "1000",
            "AUTH_MAIL_BACKEND": "smtp",
            "AUTH_SMTP_URL": "smtp://127.0.0.1:%d" % sink.port,
            "AUTH_MAIL_CONNECTIONS": "2",
            # The envelope sender tells the sink which node's mailer delivered.
            "AUTH_MAIL_FROM": "node-%s@example.com" % name,
        })
        self.env = env
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([harness.BINARY, "serve"], env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError("node %s exited with %s:\n%s"
                                   % (self.name, self.proc.returncode, self.read_log()))
            return "serving on tcp:127.0.0.1:%d" % self.port in self.read_log()
        harness.wait_until(listening, 30, what="node %s to listen" % self.name)
        return self

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def processes(self):
        return [self.proc.pid] + harness.descendants(self.proc.pid)

    def kill_all(self):
        """SIGKILL to every process of the node at once (children first: a
        master killed first would have them TERMed, which drains)."""
        pids = self.processes()
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(25)
            except subprocess.TimeoutExpired:
                self.kill_all()
        if self.proc:
            self.log.close()
        self.proc = None


class NodesTestCase(unittest.TestCase):
    """One PostgreSQL, two nodes, one sink, three nginx (front, via_a, via_b)."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="cpa-nodes-")
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        os.chmod(cls.root, 0o711)
        cls.pg = postgres.PostgresServer().start()  # cannot start: the class fails
        cls.addClassCleanup(cls.pg.close)
        cls.database_url = cls.pg.create_database("nodes")
        cls.sink = harness.SmtpSink(cls.root).start()
        cls.addClassCleanup(cls.sink.stop)
        cls.a = Node(cls.root, "a", cls.database_url, cls.sink)
        cls.b = Node(cls.root, "b", cls.database_url, cls.sink)
        for node in (cls.a, cls.b):
            cls.addClassCleanup(node.stop)
            node.start()  # one after the other: the first migrates
        cert, key = os.path.join(cls.root, "cert.pem"), os.path.join(cls.root, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=auth.example.com", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        nodes = (cls.a, cls.b)
        cls.front = Site(cls.root, "front", ["127.0.0.1:%d" % n.port for n in nodes],
                         ["127.0.0.1:%d" % n.hash_port for n in nodes], cert, key)
        cls.via_a = Site(cls.root, "via-a", ["127.0.0.1:%d" % cls.a.port],
                         ["127.0.0.1:%d" % cls.a.hash_port], cert, key)
        cls.via_b = Site(cls.root, "via-b", ["127.0.0.1:%d" % cls.b.port],
                         ["127.0.0.1:%d" % cls.b.hash_port], cert, key)
        for site in (cls.front, cls.via_a, cls.via_b):
            cls.addClassCleanup(site.stop)
            site.start()

    _counter = 0

    @classmethod
    def unique_email(cls, prefix="node"):
        NodesTestCase._counter += 1
        return "%s%d-%d@example.com" % (prefix, NodesTestCase._counter, os.getpid())

    def db(self):
        return harness.PgConnection(self.database_url)

    def register(self, site, email):
        before = self.sink.count(email)
        r = site.api("POST", "users/", {"email": email, "terms_accepted": True})
        self.assertEqual(r.status, 201, r)
        return self.sink.code_for(email, count=before + 1, timeout=30)

    def create_user(self, via_register, via_verify, password="Gago123@"):
        email = self.unique_email()
        code = self.register(via_register, email)
        r = via_verify.api("POST", "verify-code/",
                           {"email": email, "code": code, "purpose": "email_verification"})
        self.assertEqual(r.status, 200, r)
        r = via_register.api("POST", "public-set-password/",
                             {"email": email, "password": password, "repeat_password": password})
        self.assertEqual(r.status, 200, r)
        return email, password

    def login(self, site, email, password="Gago123@"):
        r = site.api("POST", "token/obtain/", {"email": email, "password": password})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def mail_counts(self):
        counts = {}
        for record in self.sink.index():
            for to in record["rcpt_tos"]:
                counts[to.lower()] = counts.get(to.lower(), 0) + 1
        return counts

    def pending_mail(self):
        with self.db() as db:
            return db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


def port_open(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def at_once(calls):
    """Runs every call in a thread of its own, released together; their
    results in order."""
    results = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i):
        gate.wait()
        try:
            results[i] = calls[i]()
        except Exception as e:  # noqa: BLE001 - reported by the assertion on results
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class TwoNodes(NodesTestCase):

    def test_the_nodes_example_passes_nginx_t(self):
        for site in (self.front, self.via_a, self.via_b):
            check = site.nginx_t()
            self.assertEqual(check.returncode, 0, check.stderr)

    def test_an_account_moves_between_nodes_request_by_request(self):
        email, password = self.create_user(self.via_a, self.via_b)  # registered on A, verified on B
        tokens = self.login(self.via_a, email, password)
        r = self.via_b.api("POST", "token/verify/", {"token": tokens["access"]})
        self.assertEqual((r.status, r.body), (200, b"{}"), r)
        r = self.via_b.api("GET", "users/me/", token=tokens["access"])
        self.assertEqual((r.status, r.json()["email"]), (200, email), r)
        r = self.via_b.api("POST", "token/refresh/", {"refresh": tokens["refresh"]})
        self.assertEqual(r.status, 200, r)
        fresh = r.json()
        r = self.via_a.api("GET", "users/me/", token=fresh["access"])
        self.assertEqual(r.status, 200, r)
        # The rotated token is spent on both nodes.
        r = self.via_a.api("POST", "token/refresh/", {"refresh": tokens["refresh"]})
        self.assertEqual(r.status, 401, r)

    def test_concurrent_wrong_guesses_on_both_nodes_burn_the_code_at_five(self):
        email = self.unique_email()
        code = self.register(self.front, email)
        wrong = "%06d" % ((int(code) - 100000 + 1) % 900000 + 100000)
        guess = {"email": email, "code": wrong, "purpose": "email_verification"}
        sites = [self.via_a, self.via_b] * 10
        answers = at_once([lambda s=s: s.api("POST", "verify-code/", guess) for s in sites])
        bodies = [(a.status, a.body) for a in answers]
        self.assertEqual(bodies.count((400, compact(INVALID_CODE))), 5, bodies)
        self.assertEqual(bodies.count((400, compact(TOO_MANY))), 15, bodies)
        for site in (self.via_a, self.via_b):
            r = site.api("POST", "verify-code/",
                         {"email": email, "code": code, "purpose": "email_verification"})
            self.assertEqual((r.status, r.body), (400, compact(TOO_MANY)), r)

    def test_concurrent_refreshes_of_one_token_on_both_nodes_one_wins(self):
        email, password = self.create_user(self.front, self.front)
        refresh = self.login(self.front, email, password)["refresh"]
        sites = [self.via_a, self.via_b] * 5
        answers = at_once([lambda s=s: s.api("POST", "token/refresh/", {"refresh": refresh})
                           for s in sites])
        statuses = [a.status for a in answers]
        self.assertEqual(statuses.count(200), 1, answers)
        self.assertEqual(statuses.count(401), 9, answers)

    def test_a_session_ended_on_one_node_is_ended_on_the_other(self):
        email, password = self.create_user(self.front, self.front)
        mine = self.login(self.via_a, email, password)
        other = self.login(self.via_b, email, password)
        r = self.via_b.api("GET", "sessions/", token=mine["access"])
        self.assertEqual(r.status, 200, r)
        sessions = r.json()
        self.assertEqual(len(sessions), 2, sessions)
        other_id = [s["id"] for s in sessions if not s["current"]][0]
        r = self.via_a.api("DELETE", "sessions/%s/" % other_id, token=mine["access"])
        self.assertEqual(r.status, 204, r)
        r = self.via_b.api("GET", "sessions/", token=mine["access"])
        self.assertEqual([s["current"] for s in r.json()], [True], r)
        for site in (self.via_a, self.via_b):
            r = site.api("GET", "users/me/", token=other["access"])
            self.assertEqual(r.status, 401, r)
        r = self.via_b.api("POST", "token/refresh/", {"refresh": other["refresh"]})
        self.assertEqual(r.status, 401, r)

    def test_zz_every_mail_is_sent_once_by_two_mailers(self):
        # Last in the class (zz): it also counts the mail of the tests before.
        emails = [self.unique_email("mail") for _ in range(30)]
        sites = [self.front, self.via_a, self.via_b]
        answers = at_once([lambda e=e, i=i: sites[i % 3].api(
            "POST", "users/", {"email": e, "terms_accepted": True}) for i, e in enumerate(emails)])
        self.assertEqual([a.status for a in answers], [201] * len(emails), answers)
        harness.wait_until(lambda: self.pending_mail() == 0, 60, 0.2, "the outbox to drain")
        with self.db() as db:
            sent = [row[0].lower() for row in
                    db.execute("SELECT recipient FROM outbox WHERE status = 'sent'").fetchall()]
        counts = self.mail_counts()
        self.assertEqual(sorted(counts), sorted(set(sent)))
        for recipient in set(sent):
            self.assertEqual(counts[recipient], sent.count(recipient), recipient)
        for e in emails:
            self.assertEqual(counts.get(e.lower()), 1, e)
        for node in (self.a, self.b):
            self.assertEqual(len([p for p in harness.child_pids(node.proc.pid)
                                  if harness.comm(p) == "cpa-mailer"]), 1, node.name)


class Load:
    """Threads that register fresh emails through `site` until stopped:
    email -> (status, monotonic time the request was sent)."""

    def __init__(self, site, threads=4, prefix="load"):
        self.site = site
        self.outcomes = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.prefix = prefix
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index):
        n = 0
        while not self.stop.is_set():
            n += 1
            email = "%s-%d-%d-%d@example.com" % (self.prefix, index, n, os.getpid())
            sent = time.monotonic()
            try:
                status = self.site.api("POST", "users/",
                                       {"email": email, "terms_accepted": True}).status
            except OSError:
                status = -1
            with self.lock:
                self.outcomes[email] = (status, sent)

    def count(self, status):
        with self.lock:
            return sum(1 for s, _ in self.outcomes.values() if s == status)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


class Integrity:
    def check_registrations(self, outcomes, timeout):
        """Every 201 is an account with exactly one delivered mail; any other
        answer may or may not have committed, and then it too has exactly
        one. Waits (up to `timeout`) for the outbox to drain first."""
        harness.wait_until(lambda: self.pending_mail() == 0, timeout, 0.5, "the outbox to drain")
        counts = self.mail_counts()
        with self.db() as db:
            for email, (status, _) in outcomes.items():
                user = db.execute("SELECT id FROM users WHERE email_key = ?",
                                  (email.lower(),)).fetchone()
                if status == 201:
                    self.assertIsNotNone(user, "201 but no account for %s" % email)
                self.assertEqual(counts.get(email.lower(), 0), 0 if user is None else 1,
                                 "mails to %s (answered %s)" % (email, status))


class ANodeKilled(Integrity, NodesTestCase):

    def test_nginx_goes_on_through_the_other_node_and_no_mail_is_lost_or_doubled(self):
        with Load(self.front, threads=4, prefix="kill") as load:
            harness.wait_until(lambda: load.count(201) >= 20, 60, what="registrations")
            # The relay holds every message it is handed: the kill then lands
            # while A's senders wait for an answer, never between a relay's
            # 250 and A marking the row sent. (A kill in that window would
            # send the row again after its lease: SMTP has no two-phase
            # commit, so that mail would go out twice.)
            self.sink.hold()
            stored = len(self.sink.index())
            harness.wait_until(lambda: self._sent() == len(self.sink.index()), 30, 0.1,
                               "every answered message marked sent")
            self.a.kill_all()
            harness.wait_until(lambda: not port_open(self.a.port), 10, what="A's port closed")
            killed_at = time.monotonic()
            after = load.count(201)
            harness.wait_until(lambda: load.count(201) >= after + 30, 60,
                               what="registrations after the kill")
            self.sink.hold(False)
        self.assertGreaterEqual(len(self.sink.index()), stored)
        statuses = [s for s, _ in load.outcomes.values()]
        self.assertTrue(set(statuses) <= {201, 502}, set(statuses))
        # Only a request A had in hand when it died may fail (its POST is not
        # sent again); every later one was refused by A and went to B.
        late = [s for s, sent in load.outcomes.values() if sent > killed_at]
        self.assertEqual(set(late), {201}, late)
        self.assertLessEqual(statuses.count(502), 4, statuses)  # one a thread at most
        # A's claimed rows come due again when their 90 s lease ends.
        self.check_registrations(load.outcomes, timeout=150)

    def _sent(self):
        with self.db() as db:
            return db.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0]


class PostgresRestart(Integrity, NodesTestCase):

    def assertUnavailable(self, site, token):
        r = site.api("GET", "health/")
        self.assertEqual(r.status, 503, r)
        body = r.json()
        self.assertEqual(list(body), ["status", "database"], body)
        self.assertEqual(body["status"], "unavailable")
        # The kind of trouble, never where the database lives.
        self.assertIn(body["database"], ("cannot connect to PostgreSQL", "database connection lost"))
        self.assertTrue(r.header("Retry-After"))
        for method, route, data, tok in (
                ("POST", "users/", {"email": self.unique_email(), "terms_accepted": True}, None),
                ("GET", "users/me/", None, token),
                ("POST", "token/verify/", {"token": token}, None)):
            r = site.api(method, route, data, token=tok)
            self.assertEqual((r.status, r.body), (503, compact(UNAVAILABLE)), r)
            self.assertEqual(r.header("Retry-After"), "5")

    def test_the_nodes_answer_503_while_it_is_down_and_200_once_it_is_back(self):
        email, password = self.create_user(self.front, self.front)
        token = self.login(self.front, email, password)["access"]
        pids = {node.name: sorted(node.processes()) for node in (self.a, self.b)}
        with Load(self.front, threads=3, prefix="restart") as load:
            harness.wait_until(lambda: load.count(201) >= 20, 60, what="registrations")
            self.pg.stop()
            try:
                for site in (self.via_a, self.via_b, self.front):
                    self.assertUnavailable(site, token)
                down = load.count(503)
                harness.wait_until(lambda: load.count(503) >= down + 10, 30,
                                   what="503s under load")
            finally:
                self.pg.restart_later()
            # Back: every worker of both nodes serves at once (none answers
            # its first request 503), with no process restarted.
            answers = [site.api("GET", "users/me/", token=token)
                       for site in (self.via_a, self.via_b) * 10]
            self.assertEqual([a.status for a in answers], [200] * 20, answers)
            back = load.count(201)
            harness.wait_until(lambda: load.count(201) >= back + 20, 60,
                               what="registrations after the restart")
        for site in (self.via_a, self.via_b):
            r = site.api("GET", "health/")
            self.assertEqual(r.status, 200, r)
        statuses = [s for s, _ in load.outcomes.values()]
        self.assertTrue(set(statuses) <= {201, 503}, set(statuses))
        self.assertEqual({node.name: sorted(node.processes()) for node in (self.a, self.b)}, pids,
                         "a process crashed or restarted")
        self.check_registrations(load.outcomes, timeout=60)


if __name__ == "__main__":
    unittest.main()
