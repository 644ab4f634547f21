#!/usr/bin/python3
"""A real SMTP server that keeps what it is sent, for the tests.

    /usr/bin/python3 tests/e2e/smtp_sink.py --port PORT --dir DIR
        [--host 127.0.0.1] [--refuse-file PATH] [--reject-rcpt SUFFIX]
        [--delay-ms N] [--hold-file PATH]

Each accepted message is stored as DIR/<seq>.eml (seq zero-padded to 6
digits, the raw bytes of the DATA, written to a temp name and renamed), then
one JSON line {"seq", "mail_from", "rcpt_tos", "subject", "at"} is appended
to DIR/index.jsonl ("at": Unix time, stored). A reader that sees a line in
the index can read its file. Every DATA that arrives is first noted in
DIR/arrivals.jsonl as {"rcpt_tos", "subject", "at"}, before any hold,
delay or refusal: the order in which the client handed messages over.

While PATH (--refuse-file) exists, the end of DATA is answered
"451 4.3.0 Try again later" and nothing is stored: a relay that is refusing
for a while. A recipient ending in SUFFIX (--reject-rcpt) is refused for
good with "550 5.1.1 Mailbox unavailable", so tests can provoke a 5xx.

A slow relay: with --delay-ms each message is answered N ms after its data
arrived; while the --hold-file PATH exists, the answer waits (the client's
connection stays open, mid-DATA). Connections are served concurrently, so
N ms is per message per connection.

Plain SMTP only (no STARTTLS, no AUTH): a client that tries STARTTLS
(curl's CURLUSESSL_TRY) sees it is not offered and carries on.

Port 0 picks a free port. Once listening, prints "READY <port>" on stdout.
SIGTERM or SIGINT stops it cleanly (exit status 0).

Needs aiosmtpd (Debian: python3-aiosmtpd), hence /usr/bin/python3.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import signal
import sys
import time

from aiosmtpd.smtp import SMTP

SEQ_WIDTH = 6
EML_RE = re.compile(r"^(\d+)\.eml$")


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _subject(content):
    try:
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        subject = parsed["subject"]
        return str(subject) if subject is not None else None
    except Exception:  # a malformed message is still stored
        return None


def _append_json(path, record):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


class SinkHandler:
    def __init__(self, directory, refuse_file, reject_rcpt, delay_ms=0, hold_file=None):
        self.directory = directory
        self.refuse_file = refuse_file
        self.reject_rcpt = reject_rcpt.lower() if reject_rcpt else None
        self.delay = delay_ms / 1000.0
        self.hold_file = hold_file
        self.seq = self._last_seq()

    def _last_seq(self):
        last = 0
        for name in os.listdir(self.directory):
            m = EML_RE.match(name)
            if m:
                last = max(last, int(m.group(1)))
        return last

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and address.lower().endswith(self.reject_rcpt):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        rcpt_tos = [_decode(r) for r in envelope.rcpt_tos]
        subject = _subject(content)
        _append_json(os.path.join(self.directory, "arrivals.jsonl"),
                     {"rcpt_tos": rcpt_tos, "subject": subject, "at": time.time()})
        while self.hold_file and os.path.exists(self.hold_file):
            await asyncio.sleep(0.02)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse_file and os.path.exists(self.refuse_file):
            return "451 4.3.0 Try again later"
        self.seq += 1
        seq = self.seq
        name = "%0*d.eml" % (SEQ_WIDTH, seq)
        final = os.path.join(self.directory, name)
        # Not ending in ".eml": readers that list *.eml never see a partial file.
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _append_json(os.path.join(self.directory, "index.jsonl"), {
            "seq": seq,
            "mail_from": _decode(envelope.mail_from),
            "rcpt_tos": rcpt_tos,
            "subject": subject,
            "at": time.time(),
        })
        return "250 OK"


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    handler = SinkHandler(args.dir, args.refuse_file, args.reject_rcpt, args.delay_ms,
                          args.hold_file)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # hostname is given so that aiosmtpd does not look up the FQDN (slow
    # without DNS).
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-sink", decode_data=False),
        host=args.host,
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description="SMTP sink for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse-file", default=None)
    parser.add_argument("--reject-rcpt", default=None)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--hold-file", default=None)
    args = parser.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
