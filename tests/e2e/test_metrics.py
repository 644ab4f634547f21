"""GET metrics (API.md §8) through nginx, from the whole service: requests
served by workers and hashers, mail delivered by the mailer, all in one
scrape that moves by exactly what was done; promtool accepts the text; a
real Prometheus scrapes it; clients not in AUTH_METRICS_ALLOW get the 404
JSON, from nginx and from the pool itself."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import harness

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
NOT_FOUND = {"detail": "Not found."}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): float} of every sample line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def key(name, **labels):
    return (name, tuple(sorted(labels.items())))


class Scraping:
    def scrape(self, source=None):
        r = self.service.request("GET", "/api/v1/auth/metrics", source=source)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4")
        return r.body.decode("utf-8")


class Metrics(Scraping, harness.ServiceTestCase):

    def test_the_numbers_move_by_exactly_what_was_done(self):
        before = parse(self.scrape())
        email = self.unique_email("metrics")
        code = self.register(email)  # POST users/ 201; the code mail delivered
        r = self.api("POST", "verify-code/", {"email": email, "code": "000000" if code != "000000"
                                              else "000001", "purpose": "email_verification"})
        self.assertEqual(r.status, 400, r)
        r = self.api("POST", "verify-code/",
                     {"email": email, "code": code, "purpose": "email_verification"})
        self.assertEqual(r.status, 200, r)
        r = self.api("POST", "public-set-password/",
                     {"email": email, "password": "Gago123@", "repeat_password": "Gago123@"})
        self.assertEqual(r.status, 200, r)
        tokens = self.login(email)  # served by a hasher
        r = self.api("POST", "token/obtain/", {"email": email, "password": "wrong"})
        self.assertEqual(r.status, 401, r)
        r = self.api("POST", "token/refresh/", {"refresh": tokens["refresh"]})
        self.assertEqual(r.status, 200, r)
        r = self.api("POST", "token/refresh/", {"refresh": tokens["refresh"]})  # reuse
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.api("GET", "nope/").status, 404)

        # The mailer records a delivery after the relay took it.
        harness.wait_until(
            lambda: parse(self.scrape())[key("cryptopay_auth_mails_delivered_total")]
            > before[key("cryptopay_auth_mails_delivered_total")],
            what="the delivery to be counted")
        after = parse(self.scrape())

        def moved(name, **labels):
            k = key(name, **labels)
            return after.get(k, 0) - before.get(k, 0)

        requests = "cryptopay_auth_requests_total"
        for route, method, status, n in (
                ("users/", "POST", "201", 1),
                ("verify-code/", "POST", "400", 1), ("verify-code/", "POST", "200", 1),
                ("public-set-password/", "POST", "200", 1),
                ("token/obtain/", "POST", "200", 1), ("token/obtain/", "POST", "401", 1),
                ("token/refresh/", "POST", "200", 1), ("token/refresh/", "POST", "401", 1),
                ("unknown", "GET", "404", 1)):
            self.assertEqual(moved(requests, route=route, method=method, status=status), n,
                             (route, method, status))
        self.assertEqual(moved("cryptopay_auth_request_duration_seconds_count",
                               route="token/obtain/"), 2)
        self.assertEqual(moved("cryptopay_auth_request_duration_seconds_bucket",
                               route="token/obtain/", le="+Inf"), 2)
        self.assertGreater(moved("cryptopay_auth_request_duration_seconds_sum",
                                 route="token/obtain/"), 0)
        self.assertEqual(moved("cryptopay_auth_logins_total", result="success"), 1)
        self.assertEqual(moved("cryptopay_auth_logins_total", result="failure"), 1)
        self.assertEqual(moved("cryptopay_auth_logins_total", result="throttled"), 0)
        self.assertEqual(moved("cryptopay_auth_codes_sent_total", purpose="email_verification"), 1)
        self.assertEqual(moved("cryptopay_auth_code_checks_total", purpose="email_verification",
                               result="wrong"), 1)
        self.assertEqual(moved("cryptopay_auth_code_checks_total", purpose="email_verification",
                               result="ok"), 1)
        self.assertEqual(moved("cryptopay_auth_tokens_issued_total", type="access"), 2)
        self.assertEqual(moved("cryptopay_auth_tokens_issued_total", type="refresh"), 2)
        self.assertEqual(moved("cryptopay_auth_tokens_revoked_total", reason="rotation"), 1)
        # The reuse ends the session: its newest refresh token and both access tokens.
        self.assertEqual(moved("cryptopay_auth_tokens_revoked_total", reason="reuse"), 3)
        self.assertEqual(moved("cryptopay_auth_refresh_reuse_detected_total"), 1)
        self.assertEqual(moved("cryptopay_auth_mails_delivered_total"), 1)
        self.assertEqual(after[key("cryptopay_auth_mail_queue_messages", state="pending")], 0)
        self.assertEqual(after[key("cryptopay_auth_mail_queue_readable")], 1)
        self.assertEqual(after[key("cryptopay_auth_worker_restarts_total", role="worker")], 0)
        version = [k for k in after if k[0] == "cryptopay_auth_build_info"]
        self.assertEqual(len(version), 1)
        self.assertRegex(dict(version[0][1])["version"], r"^\d+\.\d+\.\d+$")

    def test_a_worker_restart_is_counted_by_the_master(self):
        before = parse(self.scrape())[key("cryptopay_auth_worker_restarts_total", role="hasher")]
        hashers = self.service.children("cpa-hasher")
        self.assertTrue(hashers)
        os.kill(hashers[0], signal.SIGKILL)
        harness.wait_until(
            lambda: parse(self.scrape())[key("cryptopay_auth_worker_restarts_total",
                                             role="hasher")] == before + 1,
            what="the restart to be counted")
        harness.wait_until(lambda: len(self.service.children("cpa-hasher")) == len(hashers),
                           what="the hasher to be back")

    def test_head_and_other_methods(self):
        r = self.service.request("HEAD", "/api/v1/auth/metrics/")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4")
        r = self.api("POST", "metrics/", {})
        self.assertBody(r, 405, {"detail": 'Method "POST" not allowed.'})
        self.assertEqual(r.header("Allow"), "GET, HEAD")

    def test_promtool_accepts_the_output(self):
        self.assertTrue(os.path.exists(PROMTOOL),
                        "promtool is missing: scripts/install-deps.sh installs prometheus")
        # Something in every family first: histograms and labelled requests too.
        self.api("GET", "health/")
        self.api("GET", "nope/")
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=self.scrape(),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))

    def test_a_client_not_allowed_gets_the_404_json(self):
        for method in ("GET", "HEAD", "POST", "DELETE", "OPTIONS"):
            r = self.service.request(method, "/api/v1/auth/metrics", source="127.0.0.2")
            self.assertEqual(r.status, 404, method)
            if method != "HEAD":
                self.assertBody(r, 404, NOT_FOUND)
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertTrue(r.header("X-Request-Id"))
        # The same client reaches everything else.
        self.assertEqual(self.api("GET", "health/", source="127.0.0.2").status, 200)

    def test_a_real_prometheus_scrapes_it(self):
        self.assertTrue(os.path.exists(PROMETHEUS),
                        "prometheus is missing: scripts/install-deps.sh installs it")
        d = tempfile.mkdtemp(prefix="prom-", dir=self.root)
        port = harness.free_port()
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: cryptopay-auth\n"
                    "    metrics_path: /api/v1/auth/metrics\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % self.service.port)
        log = open(os.path.join(d, "prometheus.log"), "wb")
        prom = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + os.path.join(d, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(d, "data"),
             "--web.listen-address=127.0.0.1:%d" % port], stdout=log, stderr=subprocess.STDOUT)

        def stop():
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            log.close()
        self.addCleanup(stop)

        def query(expr):
            url = "http://127.0.0.1:%d/api/v1/query?%s" % (
                port, urllib.parse.urlencode({"query": expr}))
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    body = json.loads(resp.read())
            except OSError:
                return None
            return body["data"]["result"] if body.get("status") == "success" else None

        def prometheus_log():
            with open(os.path.join(d, "prometheus.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        try:
            up = harness.wait_until(lambda: query('up{job="cryptopay-auth"} == 1'), timeout=60,
                                    interval=0.5, what="Prometheus to scrape the service")
            self.assertEqual(up[0]["value"][1], "1")
            info = harness.wait_until(lambda: query("cryptopay_auth_build_info"), timeout=10,
                                      interval=0.5, what="build_info in Prometheus")
            self.assertRegex(info[0]["metric"]["version"], r"^\d+\.\d+\.\d+$")
            scrapes = harness.wait_until(
                lambda: query('cryptopay_auth_requests_total{route="metrics/",method="GET",'
                              'status="200"}'),
                timeout=10, interval=0.5, what="its own scrapes counted")
            self.assertGreaterEqual(float(scrapes[0]["value"][1]), 1)
        except AssertionError:
            raise AssertionError("Prometheus log:\n" + prometheus_log())


class PoolChecksToo(harness.ServiceTestCase):
    """nginx allows every client here (a template without the allow list):
    the pool alone answers the 404, from the client address nginx passes."""
    with_sink = False

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(harness.SOURCE_DIR, "nginx", "cryptopay-auth.local.conf.in")) as f:
            template = f.read()
        assert "{{METRICS_ALLOW}}" in template
        fd, path = tempfile.mkstemp(prefix="cpa-template-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write(template.replace("{{METRICS_ALLOW}}", "allow all;"))
        os.chmod(path, 0o644)
        cls.addClassCleanup(os.unlink, path)
        cls.service_env = {"AUTH_NGINX_TEMPLATE": path}
        super().setUpClass()

    def test_the_pool_answers_404_to_a_client_not_allowed(self):
        for i, method in enumerate(("GET", "POST")):
            rid = "metrics-pool-%d-%d" % (os.getpid(), i)
            r = self.service.request(method, "/api/v1/auth/metrics/", source="127.0.0.2",
                                     headers={"X-Request-Id": rid})
            self.assertBody(r, 404, NOT_FOUND)
            self.assertEqual(self.service.served_by(rid), "worker")
        r = self.service.request("GET", "/api/v1/auth/metrics/")
        self.assertEqual(r.status, 200)
        # The refused scrape is counted under its route, as the 404 it got.
        self.assertIn('cryptopay_auth_requests_total{route="metrics/",method="GET",status="404"} 1\n',
                      r.body.decode())


if __name__ == "__main__":
    import unittest
    unittest.main()
