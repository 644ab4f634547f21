"""Fault 1: workers SIGKILLed at random while registrations pour in. Every
registration that got a 201 exists with exactly one live code and exactly one
delivered email; nothing answers 500; the pool is back to full strength."""

import os
import random
import signal
import time
import unittest

import harness
import integrity


class WorkerKills(harness.ServiceTestCase):
    service_env = {"AUTH_WORKERS": "4"}

    def test_registrations_survive_killed_workers(self):
        kills = 0
        with integrity.Load(self.service, threads=6, prefix="kill") as load:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                time.sleep(0.7)
                workers = self.service.children("cpa-worker")
                if workers:
                    os.kill(random.choice(workers), signal.SIGKILL)
                    kills += 1
        self.assertGreaterEqual(kills, 8)
        statuses = list(load.outcomes.values())
        self.assertGreater(statuses.count(201), 50, "too few registrations to mean anything")
        self.assertTrue(set(statuses) <= {201, 502}, set(statuses))
        integrity.check_registrations(self, self.service, self.sink, load.outcomes)
        harness.wait_until(lambda: len(self.service.children("cpa-worker")) == 4, 10,
                           what="the pool back at four workers")
        self.assertEqual(self.api("GET", "health/").status, 200)


if __name__ == "__main__":
    unittest.main()
