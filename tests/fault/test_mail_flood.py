"""Fault 6: a registration flood queued while a slow relay (100 ms a message,
several connections at once) is held back, then released. The queue drains
at least three times faster over four relay connections than over one;
notices queued before the flood's code mails still go out after them; a
code replaced while its mail waited is never mailed and its row ends
expired. Every message arrives once.

Both services run in this one test, one after the other, so that the two
drains are timed on the same machine under the same load."""

import concurrent.futures
import os
import shutil
import tempfile
import time
import unittest

import harness
import integrity

DELAY_MS = 100
FLOOD = 120
NOTICE_ACCOUNTS = 6
PASSWORD = "Gago123@"
NEW_PASSWORD = "Lupa456#"
CODE_SUBJECT = "Confirm your email address"
NOTICE_SUBJECT = "Your password was changed"


class Flood:
    """A service over a slow sink of its own, delivering over `connections`."""

    def __init__(self, test, connections):
        self.test = test
        self.connections = connections
        self.tag = "c%d-%d" % (connections, os.getpid())
        # tmpfs when there is one: the sink and the database fsync every
        # message, and the disk is not what this test measures.
        base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        root = tempfile.mkdtemp(prefix="cpa-flood-", dir=base)
        test.addCleanup(shutil.rmtree, root, True)
        self.sink = harness.SmtpSink(root, delay_ms=DELAY_MS).start()
        test.addCleanup(self.sink.stop)
        self.service = harness.Service(root, self.sink,
                                       {"AUTH_MAIL_CONNECTIONS": str(connections)})
        test.addCleanup(self.service.stop)
        self.service.start()
        self.outcomes = {}  # email -> status of its POST users/

    def email(self, what, n):
        return "%s-%s-%d@example.com" % (what, self.tag, n)

    def register(self, address):
        r = self.service.api("POST", "users/", {"email": address, "terms_accepted": True})
        self.outcomes[address] = r.status
        self.test.assertEqual(r.status, 201, r)

    def pending(self):
        return self.service.api("GET", "health/").json()["mail_queue"]["pending"]

    def account(self, address):
        """A registered, active account (the relay open); returns its access token."""
        self.register(address)
        code = self.sink.code_for(address, timeout=20)
        r = self.service.api("POST", "verify-code/",
                             {"email": address, "code": code, "purpose": "email_verification"})
        self.test.assertEqual(r.status, 200, r)
        r = self.service.api("POST", "public-set-password/",
                             {"email": address, "password": PASSWORD, "repeat_password": PASSWORD})
        self.test.assertEqual(r.status, 200, r)
        r = self.service.api("POST", "token/obtain/", {"email": address, "password": PASSWORD})
        self.test.assertEqual(r.status, 200, r)
        return r.json()["access"]

    def change_password(self, token):
        """Queues a notice."""
        r = self.service.api("POST", "users/set_password/",
                             {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                              "re_new_password": NEW_PASSWORD}, token=token)
        self.test.assertEqual(r.status, 204, r)

    def run(self):
        """Queues the flood behind a held relay, releases it, and returns the
        seconds from the release to the last message stored."""
        tokens = [self.account(self.email("notice", i)) for i in range(NOTICE_ACCOUNTS)]
        harness.wait_until(lambda: self.pending() == 0, 20, what="an empty queue")
        arrived_before = len(self.sink.arrivals())

        self.sink.hold(True)
        # One code mail in each sender's hands: from here on, everything queues.
        for i in range(self.connections):
            self.register(self.email("filler", i))
        harness.wait_until(lambda: len(self.sink.arrivals()) - arrived_before >= self.connections,
                           20, what="every sender holding a message")
        for token in tokens[:NOTICE_ACCOUNTS // 2]:
            self.change_password(token)
        # A code replaced while its mail waits: registering again sends a
        # fresh code once the send limit allows (its event is aged here).
        self.twice = self.email("twice", 0)
        self.register(self.twice)
        with self.service.db() as db:
            db.execute("UPDATE throttle_events SET at = at - 120 WHERE subject = ?",
                       (self.twice,))
        self.register(self.twice)
        flood = [self.email("flood", i) for i in range(FLOOD)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(self.register, flood))
        for token in tokens[NOTICE_ACCOUNTS // 2:]:
            self.change_password(token)
        self.test.assertEqual(self.pending(), self.connections + NOTICE_ACCOUNTS + 2 + FLOOD)

        released = time.time()
        self.sink.hold(False)
        harness.wait_until(lambda: self.pending() == 0, 120, 0.1, "the flood to drain")
        stored = self.sink.index()
        # Each notice account's code mail and notice, the fillers, the flood,
        # and the replacing code mail (not the replaced one).
        expected = NOTICE_ACCOUNTS * 2 + self.connections + FLOOD + 1
        harness.wait_until(lambda: len(self.sink.index()) >= expected, 10,
                           what="%d messages stored" % expected)
        stored = self.sink.index()
        self.test.assertEqual(len(stored), expected)
        self.arrivals = self.sink.arrivals()[arrived_before:]
        return max(m["at"] for m in stored) - released

    def check(self):
        test = self.test
        # Code mails before notices. The first `connections` arrivals were in
        # hand before anything else was queued. After them, a notice goes out
        # only once every code mail has: at most the connections - 1 code
        # mails then still in other senders' hands may reach the relay after it.
        after = [m["subject"] for m in self.arrivals[self.connections:]]
        test.assertEqual(after.count(NOTICE_SUBJECT), NOTICE_ACCOUNTS)
        first_notice = after.index(NOTICE_SUBJECT)
        late_codes = after[first_notice:].count(CODE_SUBJECT)
        test.assertLessEqual(late_codes, self.connections - 1,
                             "code mails after the first notice: %r" % after)

        # The replaced code was never mailed; the mail that went carries the
        # live code, and the first row ended expired.
        test.assertEqual(self.sink.count(self.twice), 1)
        code = self.sink.code_for(self.twice)
        with self.service.db() as db:
            rows = db.execute("SELECT status, body FROM outbox WHERE recipient = ? ORDER BY id",
                              (self.twice,)).fetchall()
        test.assertEqual([(r["status"], r["body"]) for r in rows], [("expired", ""), ("sent", "")])
        r = self.service.api("POST", "verify-code/",
                             {"email": self.twice, "code": code, "purpose": "email_verification"})
        test.assertEqual(r.status, 200, r)
        del self.outcomes[self.twice]  # verified now: its code is used up

        # Every registration has its one mail; every notice account its two.
        integrity.check_registrations(test, self.service, self.sink,
                                      {e: s for e, s in self.outcomes.items()
                                       if not e.startswith("notice-")})
        for i in range(NOTICE_ACCOUNTS):
            subjects = [m["Subject"] for m in self.sink.messages(self.email("notice", i))]
            test.assertEqual(subjects, [CODE_SUBJECT, NOTICE_SUBJECT])


class MailFlood(unittest.TestCase):

    def test_four_connections_drain_three_times_faster_in_order(self):
        one = Flood(self, 1)
        slow = one.run()
        one.check()
        one.service.stop()
        one.sink.stop()

        four = Flood(self, 4)
        fast = four.run()
        four.check()

        print("drain over 1 connection: %.2fs, over 4: %.2fs (%.1fx)"
              % (slow, fast, slow / fast))
        self.assertGreaterEqual(slow, 3 * fast,
                                "1 connection: %.2fs, 4 connections: %.2fs" % (slow, fast))
        # Over one connection a message takes at least the relay's delay.
        self.assertGreaterEqual(slow, (FLOOD + NOTICE_ACCOUNTS) * DELAY_MS / 1000.0)


if __name__ == "__main__":
    unittest.main()
