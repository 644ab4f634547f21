"""Fault 2: the SMTP relay refuses (451), then is unreachable, then refuses
again, while codes are being sent. Every queued message arrives once the
relay returns, none twice; registration never depends on the relay."""

import time
import unittest

import harness
import integrity


class RelayOutage(harness.ServiceTestCase):

    def test_every_message_arrives_once(self):
        port = self.sink.port
        with integrity.Load(self.service, threads=3, prefix="relay") as load:
            time.sleep(1)
            self.sink.refuse(True)        # 451 at end of DATA
            time.sleep(2)
            self.sink.stop()              # connection refused
            time.sleep(2)
            self.sink.start(port)
            time.sleep(1)
            self.sink.refuse(False)
            time.sleep(1)
        statuses = set(load.outcomes.values())
        self.assertEqual(statuses, {201})
        with self.service.db() as db:
            retried = db.execute("SELECT count(*) FROM outbox WHERE attempts > 1").fetchone()[0]
        self.assertGreater(retried, 0, "the outage never made a delivery fail")
        integrity.check_registrations(self, self.service, self.sink, load.outcomes)


if __name__ == "__main__":
    unittest.main()
