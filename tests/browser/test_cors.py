"""The API called from a web page on another origin, in Debian's headless
Chromium (API.md §1 "Browsers (CORS)", §4 "Reuse grace"): what a single-page
app does, with the browser enforcing CORS for real.

A tiny page (PAGE below) is served by Python's http.server on two ports of
127.0.0.1 beside the service's nginx: its origin on one port is listed in
AUTH_CORS_ORIGINS, on the other it is not. From the listed origin, fetch()
with a JSON body or an Authorization header (so the browser sends real
preflights, which nginx's access log shows) reaches token/obtain/ and
users/me/ and reads X-Request-Id and the bodies, errors included. From the
other origin every call rejects with a TypeError, and the request the
preflight was for never runs. Two tabs of the listed page that refresh one
refresh token at the same moment (a BroadcastChannel message starts both)
both stay logged in with AUTH_REFRESH_REUSE_GRACE=10; with 0, one of them
gets "Token is blacklisted" and the winner's new tokens are revoked too.

One browser per class. A browser that cannot start fails the test."""

import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
import unittest

from selenium.webdriver.support.ui import WebDriverWait

import harness
import test_docs_page

WAIT = 20  # seconds for a page, or an answer
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>A frontend on another origin</title>
<script>
// The API's base URL comes in the query: ?api=http://127.0.0.1:PORT/api/v1/auth/
const API = new URLSearchParams(location.search).get("api");

// A call as a frontend makes it: JSON bodies, a bearer token, an optional
// request id. Resolves to what the page could read, or to the error.
async function api(method, route, body, token, requestId) {
  const headers = {};
  if (body != null) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = "Bearer " + token;
  if (requestId) headers["X-Request-Id"] = requestId;
  try {
    const r = await fetch(API + route, {method, headers, body: body == null ? undefined : JSON.stringify(body)});
    const text = await r.text();
    return {status: r.status, requestId: r.headers.get("X-Request-Id"), body: text ? JSON.parse(text) : null};
  } catch (e) {
    return {error: e.name, message: e.message};
  }
}

// Two tabs refreshing at once: each arms itself, then one message on the
// channel (from any tab of this origin) starts the refresh in all of them.
function armRefresh() {
  window.refreshed = null;
  const channel = new BroadcastChannel("cpa-refresh");
  channel.onmessage = async () => {
    channel.close();
    window.refreshed = await api("POST", "token/refresh/", {refresh: localStorage.getItem("refresh")});
  };
}
function refreshEverywhere() {
  new BroadcastChannel("cpa-refresh").postMessage("now");
}
</script>
<p>Test page.</p>
"""

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
INVALID_ACCESS = {"detail": "Given token not valid for any token type", "code": "token_not_valid"}


class PageServer:
    """PAGE over HTTP on a free port of 127.0.0.1 (http.server, in a thread)."""

    def __init__(self, directory):
        handler = functools.partial(Quiet, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class CorsPage(harness.ServiceTestCase):
    """The service with the page's origin listed, and a browser; `grace` is
    AUTH_REFRESH_REUSE_GRACE."""
    grace = 0

    @classmethod
    def setUpClass(cls):
        pages = tempfile.mkdtemp(prefix="cpa-cors-page-")
        cls.addClassCleanup(shutil.rmtree, pages, True)
        with open(os.path.join(pages, "page.html"), "w") as f:
            f.write(PAGE)
        cls.listed, cls.other = PageServer(pages), PageServer(pages)
        cls.addClassCleanup(cls.listed.stop)
        cls.addClassCleanup(cls.other.stop)
        cls.service_env = {"AUTH_CORS_ORIGINS": cls.listed.origin,
                           "AUTH_REFRESH_REUSE_GRACE": str(cls.grace)}
        super().setUpClass()
        profile = tempfile.mkdtemp(prefix="cpa-chromium-")
        cls.addClassCleanup(shutil.rmtree, profile, True)
        cls.driver = test_docs_page.start_browser(profile)
        cls.addClassCleanup(cls.driver.quit)
        cls.driver.set_script_timeout(WAIT)
        cls.api_base = "http://127.0.0.1:%d/api/v1/auth/" % cls.service.port

    def open_page(self, server):
        self.driver.get("%s/page.html?api=%s" % (server.origin, self.api_base))
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.execute_script("return typeof api === 'function'"))

    def call(self, method, route, body=None, token=None, request_id=None):
        """api() on the page in the current tab: what the page could read."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "api(arguments[0], arguments[1], arguments[2], arguments[3], arguments[4]).then(done);",
            method, route, body, token, request_id)

    def access_log(self):
        with open(os.path.join(self.service.state_dir, "nginx-access.log")) as f:
            return f.read()

    def two_tabs_refresh_at_once(self):
        """A logged-in page in two tabs; both refresh the refresh token they
        share (localStorage) at the same moment. Returns each tab's answer."""
        email, password = self.create_user()
        self.open_page(self.listed)
        first = self.driver.current_window_handle
        r = self.call("POST", "token/obtain/", {"email": email, "password": password})
        self.assertEqual(r["status"], 200, r)
        self.driver.execute_script("localStorage.setItem('refresh', arguments[0])", r["body"]["refresh"])
        self.driver.switch_to.new_window("tab")
        second = self.driver.current_window_handle
        self.addCleanup(self.close_tab, second, first)
        self.open_page(self.listed)
        tabs = (first, second)
        for tab in tabs:
            self.driver.switch_to.window(tab)
            self.driver.execute_script("armRefresh()")
        self.driver.execute_script("refreshEverywhere()")
        answers = []
        for tab in tabs:
            self.driver.switch_to.window(tab)
            answers.append(WebDriverWait(self.driver, WAIT).until(
                lambda d: d.execute_script("return window.refreshed")))
        return list(zip(tabs, answers))

    def close_tab(self, tab, back_to):
        self.driver.switch_to.window(tab)
        self.driver.close()
        self.driver.switch_to.window(back_to)


class ListedOrigin(CorsPage):
    grace = 10

    def test_a_listed_origin_calls_the_api_and_reads_the_answers(self):
        email, password = self.create_user()
        self.open_page(self.listed)
        rid = "browser-obtain-%d" % os.getpid()
        r = self.call("POST", "token/obtain/", {"email": email, "password": password}, request_id=rid)
        self.assertEqual((r["status"], r["requestId"]), (200, rid), r)
        self.assertEqual(set(r["body"]), {"access", "refresh"})
        me = self.call("GET", "users/me/", token=r["body"]["access"])
        self.assertEqual((me["status"], me["body"]["email"]), (200, email), me)
        self.assertRegex(me["requestId"], r"^[A-Za-z0-9._:-]{1,128}$")
        # Errors are readable too: the body and what to show for it.
        bad = self.call("POST", "token/obtain/", {"email": email, "password": "wrong-password"})
        self.assertEqual((bad["status"], bad["body"]),
                         (401, {"detail": "No active account found with the given credentials"}), bad)
        locked = self.call("GET", "users/me/")
        self.assertEqual((locked["status"], locked["body"]),
                         (401, {"detail": "Authentication credentials were not provided."}), locked)
        # The browser asked first each time (JSON body, Authorization): real
        # preflights, answered by nginx.
        log = self.access_log()
        for route in ("token/obtain/", "users/me/"):
            self.assertRegex(log, r'"OPTIONS /api/v1/auth/%s" 204 ' % re.escape(route))

    def test_another_origin_is_refused_by_the_browser(self):
        self.open_page(self.other)
        email = self.unique_email("cors-refused")
        for method, route, body in (("POST", "users/", {"email": email, "terms_accepted": True}),
                                    ("GET", "health/", None)):
            r = self.call(method, route, body)
            self.assertEqual(r.get("error"), "TypeError", r)  # fetch() rejects: nothing to read
        # The preflight was refused (the pool's 405), so the registration it
        # was for never ran: no account, no mail.
        self.assertRegex(self.access_log(), r'"OPTIONS /api/v1/auth/users/" 405 ')
        with self.service.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM users WHERE email = ?",
                                        (email,)).fetchone()[0], 0)
        self.assertEqual(self.sink.count(email), 0)

    def test_two_tabs_refreshing_at_once_both_stay_logged_in(self):
        answers = self.two_tabs_refresh_at_once()
        for tab, answer in answers:
            self.assertEqual(answer["status"], 200, answer)
        # Each tab goes on with its own new pair, in the same session.
        for tab, answer in answers:
            self.driver.switch_to.window(tab)
            me = self.call("GET", "users/me/", token=answer["body"]["access"])
            self.assertEqual(me["status"], 200, me)
            again = self.call("POST", "token/refresh/", {"refresh": answer["body"]["refresh"]})
            self.assertEqual(again["status"], 200, again)


class WithoutGrace(CorsPage):
    grace = 0

    def test_two_tabs_refreshing_at_once_log_the_session_out(self):
        answers = self.two_tabs_refresh_at_once()
        statuses = sorted(answer["status"] for _, answer in answers)
        self.assertEqual(statuses, [200, 401], answers)
        [(winner_tab, winner)] = [(t, a) for t, a in answers if a["status"] == 200]
        [loser] = [a for _, a in answers if a["status"] == 401]
        self.assertEqual(loser["body"], BLACKLISTED)
        # The reuse revoked the whole session: the winner's new tokens too.
        self.driver.switch_to.window(winner_tab)
        me = self.call("GET", "users/me/", token=winner["body"]["access"])
        self.assertEqual((me["status"], me["body"]), (401, INVALID_ACCESS), me)
        again = self.call("POST", "token/refresh/", {"refresh": winner["body"]["refresh"]})
        self.assertEqual((again["status"], again["body"]), (401, BLACKLISTED), again)


if __name__ == "__main__":
    unittest.main()
