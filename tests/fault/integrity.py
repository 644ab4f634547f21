"""Integrity checks the fault tests end with: what the clients were told
against what the database holds and what the SMTP sink received."""

import threading
import time

import harness


def drain_outbox(test, service, timeout=60):
    """Waits until the mailer has nothing pending."""
    def empty():
        try:
            r = service.api("GET", "health/")
            return r.status == 200 and r.json()["mail_queue"]["pending"] == 0
        except OSError:
            return False
    harness.wait_until(empty, timeout, 0.2, "the outbox to drain")


def check_registrations(test, service, sink, outcomes):
    """`outcomes`: email -> HTTP status of its POST users/.

    Every 201 is an account with exactly one live verification code and
    exactly one delivered email. Any other answer may or may not have
    committed (a worker killed after COMMIT), but then it too has its one
    email: mail is never lost and never sent twice for one commit."""
    statuses = set(outcomes.values())
    test.assertFalse(statuses & {500}, "a 500 was answered: %r" % statuses)
    drain_outbox(test, service)
    time.sleep(0.5)
    now = int(time.time())
    delivered = {}
    for msg in sink.messages():
        delivered[msg["To"].lower()] = delivered.get(msg["To"].lower(), 0) + 1
    with service.db() as db:
        for email, status in outcomes.items():
            key = email.lower()
            user = db.execute("SELECT id FROM users WHERE email_key = ?", (key,)).fetchone()
            if status == 201:
                test.assertIsNotNone(user, "201 but no account for %s" % email)
            if user is None:
                test.assertEqual(delivered.get(key, 0), 0, "mail for an account that is not there")
                continue
            codes = db.execute("SELECT count(*) FROM codes WHERE user_id = ? AND purpose = "
                               "'email_verification' AND used_at IS NULL AND expires_at > ?",
                               (user["id"], now)).fetchone()[0]
            test.assertEqual(codes, 1, "live codes for %s" % email)
            test.assertEqual(delivered.get(key, 0), 1, "emails delivered to %s" % email)
        test.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")


class Load:
    """Client threads that register fresh emails until stopped."""

    def __init__(self, service, threads=6, prefix="load"):
        self.service = service
        self.outcomes = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.prefix = prefix
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index):
        n = 0
        while not self.stop.is_set():
            n += 1
            email = "%s-%d-%d-%d@example.com" % (self.prefix, index, n, int(time.time() * 1000))
            try:
                r = self.service.api("POST", "users/", {"email": email, "terms_accepted": True})
                status = r.status
            except OSError:
                status = -1  # connection refused or reset: no answer
            with self.lock:
                self.outcomes[email] = status

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()
