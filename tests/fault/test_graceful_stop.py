"""Fault 4: SIGTERM to the master under load. Requests already in flight
complete with their real answers; afterwards nothing is left running and the
socket is gone."""

import os
import threading
import time
import unittest

import harness


class GracefulStop(harness.ServiceTestCase):
    # Logins cost a real hash here, so that requests are in flight when the
    # signal arrives.
    service_env = {"AUTH_PBKDF2_ITERATIONS": "400000", "AUTH_WORKERS": "2"}

    def test_in_flight_requests_complete(self):
        email, password = self.create_user()
        tree = [self.service.master_pid] + harness.descendants(self.service.master_pid)
        results = []
        sent = threading.Barrier(9)

        def login():
            conn_result = None
            try:
                sent.wait()
                conn_result = self.api("POST", "token/obtain/",
                                       {"email": email, "password": password}).status
            except OSError as e:
                conn_result = repr(e)
            results.append(conn_result)

        threads = [threading.Thread(target=login) for _ in range(8)]
        for t in threads:
            t.start()
        sent.wait()
        time.sleep(0.15)  # the requests reach nginx and the pool
        started = time.monotonic()
        code = self.service.stop()
        for t in threads:
            t.join()
        self.assertEqual(code, 0)
        self.assertEqual(results, [200] * 8, "an in-flight request was dropped")
        self.assertLess(time.monotonic() - started, 25)
        harness.wait_until(lambda: not any(harness.alive(p) for p in tree), 5,
                           what="every process of the service to exit")
        self.assertFalse(os.path.exists(os.path.join(self.service.state_dir, "fcgi.sock")))
        self.assertFalse(os.path.exists(os.path.join(self.service.state_dir, "nginx.pid")))


if __name__ == "__main__":
    unittest.main()
