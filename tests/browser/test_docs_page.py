"""GET docs/ in a real browser: Debian's Chromium, headless, driven through
chromedriver (python3-selenium), against nginx + the pool as `make run`
serves them. The page loads with no failed request and no console error
(nginx's Content-Security-Policy for the page included), shows every
operation of docs/openapi.json, and "Try it out" calls this same server,
with the bearer token given through Authorize.

One browser for the class. A browser that cannot start fails the test."""

import json
import os
import shutil
import tempfile
import unittest

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

import harness

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20  # seconds for the page, or an answer, to show


def start_browser(profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--window-size=1280,4000",
                # Nothing of the browser's own on the network: the log is the page's.
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-default-browser-check",
                "--user-data-dir=" + profile_dir):
        options.add_argument(arg)
    # Every request and its answer (performance), and the console (browser).
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = ChromeService(executable_path=CHROMEDRIVER, log_path=os.path.join(profile_dir, "driver.log"))
    return webdriver.Chrome(service=service, options=options)


class DocsPage(harness.ServiceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        profile = tempfile.mkdtemp(prefix="cpa-chromium-")
        cls.addClassCleanup(shutil.rmtree, profile, True)
        cls.driver = start_browser(profile)
        cls.addClassCleanup(cls.driver.quit)
        cls.base = "http://127.0.0.1:%d/api/v1/auth/" % cls.service.port
        cls.driver.get_log("performance")  # what the browser did before the page
        cls.driver.get(cls.base + "docs/")
        WebDriverWait(cls.driver, WAIT).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
        # The log as the page loaded: read once, before any test clicks.
        cls.load_log = cls.driver.get_log("performance")
        cls.console = cls.driver.get_log("browser")

    def network(self, entries):
        """url -> (status or None, failure text or None) of every request the
        docs page made (its own load included). The browser's own tab pages
        may still be loading meanwhile: their requests are not the page's."""
        urls, out = {}, {}
        for entry in entries:
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                if params.get("documentURL") == self.base + "docs/":
                    urls[params["requestId"]] = params["request"]["url"]
                    out.setdefault(params["request"]["url"], (None, None))
            elif params.get("requestId") not in urls:
                continue
            elif message["method"] == "Network.responseReceived":
                out[urls[params["requestId"]]] = (params["response"]["status"], None)
            elif message["method"] == "Network.loadingFailed":
                url = urls[params["requestId"]]
                out[url] = (out[url][0], params.get("blockedReason") or params.get("errorText"))
        return out

    def test_loads_with_no_failed_request_from_this_server_only(self):
        requests = self.network(self.load_log)
        origin = "http://127.0.0.1:%d/" % self.service.port
        self.assertIn(self.base + "docs/", requests)
        self.assertIn(self.base + "schema/", requests)
        self.assertIn(self.base + "docs/assets/swagger-ui-bundle.js", requests)
        for url, (status, failure) in requests.items():
            if url.startswith("data:"):
                continue  # images inlined in the stylesheet
            self.assertTrue(url.startswith(origin), "a request to another host: %s" % url)
            self.assertIsNone(failure, "%s failed: %s" % (url, failure))
            self.assertEqual(status, 200, url)

    def test_no_console_errors(self):
        # A script or style the Content-Security-Policy refuses shows here.
        errors = [e["message"] for e in self.console if e["level"] == "SEVERE"]
        self.assertEqual([], errors)

    def test_lists_every_operation_of_the_document(self):
        shown = set()
        for block in self.driver.find_elements(By.CSS_SELECTOR, ".opblock"):
            method = block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text
            path = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path")
            shown.add((method.upper(), path))
        documented = {(m.upper(), t) for t, m, _ in harness.CONTRACT.operations()}
        self.assertEqual(shown, documented)

    # --- "Try it out"

    def operation(self, tag, operation_id):
        """The operation's block, expanded, with "Try it out" pressed."""
        block = self.driver.find_element(By.ID, "operations-%s-%s" % (tag, operation_id))
        self.driver.execute_script("arguments[0].scrollIntoView()", block)
        if "is-open" not in block.get_attribute("class"):
            block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        WebDriverWait(block, WAIT).until(
            ready.element_to_be_clickable((By.CSS_SELECTOR, ".try-out__btn"))).click()
        return block

    def execute(self, block):
        """Presses Execute; the live answer's status and body as shown."""
        block.find_element(By.CSS_SELECTOR, ".execute").click()
        try:
            status = WebDriverWait(block, WAIT).until(ready.presence_of_element_located(
                (By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status")))
        except TimeoutException:
            self.fail("no answer shown; page log: %r" % self.driver.get_log("browser"))
        body = block.find_element(
            By.CSS_SELECTOR, ".live-responses-table tbody .response-col_description .highlight-code pre")
        return int(status.text.split()[0]), json.loads(body.text)

    def test_try_it_out_on_health(self):
        status, body = self.execute(self.operation("operations", "health"))
        self.assertEqual(status, 200)
        self.assertEqual((body["status"], body["database"]), ("ok", "ok"))
        self.assertEqual(set(body["mail_queue"]), {"pending", "failed"})

    def test_try_it_out_registers_an_email(self):
        email = self.unique_email("browser")
        block = self.operation("registration", "registerUser")
        editor = block.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
        editor.send_keys(Keys.CONTROL, "a")
        editor.send_keys(Keys.DELETE)
        editor.send_keys(json.dumps({"email": email, "terms_accepted": True}))
        status, body = self.execute(block)
        self.assertEqual(status, 201)
        self.assertEqual((body["email"], body["is_active"], body["terms_accepted"]), (email, False, True))
        # The server itself answered: the account exists and its code went out.
        self.sink.code_for(email)

    def test_authorize_then_try_a_locked_route(self):
        email, _ = self.create_user()
        access = self.login(email)["access"]
        self.driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
        dialog = WebDriverWait(self.driver, WAIT).until(
            ready.presence_of_element_located((By.CSS_SELECTOR, ".auth-container")))
        dialog.find_element(By.CSS_SELECTOR, "input[type=text], input[type=password]").send_keys(access)
        dialog.find_element(By.CSS_SELECTOR, "button.authorize").click()
        self.driver.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done").click()
        status, body = self.execute(self.operation("users", "getUserMe"))
        self.assertEqual(status, 200)
        self.assertEqual(body["email"], email)


if __name__ == "__main__":
    unittest.main()
