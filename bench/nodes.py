"""Two nodes on one machine behind one nginx, as README "Several nodes behind
one nginx" deploys them and tests/nodes runs them: two `cryptopay-auth serve`
processes on one PostgreSQL database, each with its own state dir and
mailer, both pools on TCP ports of 127.0.0.1, the same secret key; one nginx
whose two upstreams are those of nginx/cryptopay-auth.nodes.conf.example.

The nginx is the one `run` renders (so that one node and two are measured
through the same configuration: HTTP, the throttle off, /bench/nginx), its
two upstream blocks replaced by the example's, exactly as the README tells
an operator to do with the site file; the rendered file is taken from the
state dir of the one-node run that precedes this part."""

import os
import pwd
import re
import secrets
import signal
import subprocess
import time

from config import BenchError, SOURCE_DIR
from database import PostgresDatabase
from service import Served, fresh_dir, free_port, service_environment, set_parent_death_signal

NGINX = "/usr/sbin/nginx"
EXAMPLE = os.path.join(SOURCE_DIR, "nginx", "cryptopay-auth.nodes.conf.example")
EXAMPLE_NODES = ("10.0.0.11", "10.0.0.12")
# Copied from the one-node run's state dir: the rendered nginx.conf and what it includes.
RENDERED = ("nginx.conf", "cors.conf", "cors-headers.conf", "fastcgi.conf")
# An experiment, not a default: the single node's keep-alive lines added to the
# example's main upstream (BENCH_NODES_KEEPALIVE=1), to measure what they buy.
KEEPALIVE_LINES = "    keepalive 32;\n    keepalive_time 5s;\n    keepalive_timeout 1s;\n"


def example_upstreams(main_servers, hash_servers):
    """The example's two upstream blocks, its node addresses replaced (as
    tests/nodes/test_nodes.py does)."""
    with open(EXAMPLE) as f:
        example = f.read()
    blocks = example[example.index("upstream cryptopay_auth_pool {"):]
    for port, servers in (("9000", main_servers), ("9001", hash_servers)):
        for node, server in zip(EXAMPLE_NODES, servers):
            old = "server %s:%s " % (node, port)
            if old not in blocks:
                raise BenchError("%s has no '%s'" % (EXAMPLE, old))
            blocks = blocks.replace(old, "server %s " % server)
    if os.environ.get("BENCH_NODES_KEEPALIVE") == "1":
        end = blocks.index("}\n")
        blocks = blocks[:end] + KEEPALIVE_LINES + blocks[end:]
    return blocks


def nodes_nginx_conf(rendered, old_dir, new_dir, port, upstreams):
    """`run`'s rendered nginx.conf moved to new_dir, listening on port, with
    its upstream blocks replaced by `upstreams`."""
    text = rendered.replace(old_dir, new_dir)
    start = text.index("upstream cryptopay_auth_pool {")
    hash_start = text.index("upstream cryptopay_auth_hash_pool {")
    end = text.index("}\n", hash_start) + 2
    text = text[:start] + upstreams + text[end:]
    text, n = re.subn(r"listen 127\.0\.0\.1:\d+;", "listen 127.0.0.1:%d;" % port, text)
    if n != 1:
        raise BenchError("the rendered nginx.conf has %d 'listen 127.0.0.1:PORT' lines" % n)
    return text


class Nodes(Served):
    """Two `serve` nodes and one nginx, each in its own session."""

    def __init__(self, binary, state_dir, postgres, database_url, rendered_dir):
        super().__init__()
        self.binary = binary
        self.state_dir = state_dir
        self.postgres = postgres
        self.database_url = database_url
        self.database = PostgresDatabase(database_url)
        self.rendered_dir = rendered_dir
        self.port = free_port()
        self.log_path = os.path.join(state_dir, "service.log")
        self.secret = secrets.token_hex(32)  # one key for both: tokens cross nodes
        self.nodes = []  # (name, state dir, main port, hash port, Popen)
        self.nginx = None

    def roots(self):
        procs = [n[4] for n in self.nodes] + ([self.nginx] if self.nginx else [])
        return [p.pid for p in procs if p.poll() is None]

    def mail_dirs(self):
        return [os.path.join(n[1], "mail") for n in self.nodes]

    def spawn(self, argv, env=None):
        log = open(self.log_path, "ab")
        try:
            return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=set_parent_death_signal)
        finally:
            log.close()

    def start_node(self, name, timeout=30.0):
        state = os.path.join(self.state_dir, "node-" + name)
        port, hash_port = free_port(), free_port()
        env = service_environment(state, self.database_url,
                                  AUTH_SOCKET="tcp:127.0.0.1:%d" % port,
                                  AUTH_HASH_SOCKET="tcp:127.0.0.1:%d" % hash_port,
                                  AUTH_SECRET_KEY=self.secret)
        proc = self.spawn([self.binary, "serve"], env)
        self.nodes.append((name, state, port, hash_port, proc))
        # The node's own log says when it listens (tests/nodes waits the same way).
        listening = "serving on tcp:127.0.0.1:%d" % port
        deadline = time.monotonic() + timeout
        while listening not in self.read_log():
            if proc.poll() is not None:
                raise BenchError("node %s exited with status %s; see %s"
                                 % (name, proc.returncode, self.log_path))
            if time.monotonic() > deadline:
                raise BenchError("node %s did not listen in %.0fs; see %s"
                                 % (name, timeout, self.log_path))
            time.sleep(0.1)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def write_nginx_conf(self):
        nginx_dir = os.path.join(self.state_dir, "nginx-front")
        os.makedirs(nginx_dir)
        with open(os.path.join(self.rendered_dir, "nginx.conf")) as f:
            rendered = f.read()
        upstreams = example_upstreams(["127.0.0.1:%d" % n[2] for n in self.nodes],
                                      ["127.0.0.1:%d" % n[3] for n in self.nodes])
        for name in RENDERED[1:]:
            with open(os.path.join(self.rendered_dir, name)) as f:
                text = f.read().replace(self.rendered_dir, nginx_dir)
            with open(os.path.join(nginx_dir, name), "w") as f:
                f.write(text)
        conf = os.path.join(nginx_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nodes_nginx_conf(rendered, self.rendered_dir, nginx_dir, self.port,
                                     upstreams))
        # nginx's workers run as the user the rendered file names (root
        # starts them): their temp dirs are theirs, as `run` arranges.
        m = re.search(r"^user (\S+)", rendered, re.M)
        temp = os.path.join(nginx_dir, "nginx")
        for sub in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            os.makedirs(os.path.join(temp, sub))
            if m and os.geteuid() == 0:
                pw = pwd.getpwnam(m.group(1).rstrip(";"))
                os.chown(os.path.join(temp, sub), pw.pw_uid, pw.pw_gid)
        for path in (self.state_dir, nginx_dir, temp):
            os.chmod(path, 0o755)
        return nginx_dir, conf

    def start(self, timeout=30.0):
        fresh_dir(self.state_dir)
        self.start_node("a")  # one after the other: the first creates the schema
        self.start_node("b")
        nginx_dir, conf = self.write_nginx_conf()
        self.nginx = self.spawn([NGINX, "-p", nginx_dir, "-c", conf, "-e",
                                 os.path.join(nginx_dir, "nginx-error.log")])

        def exited():
            for name, _, _, _, proc in self.nodes:
                if proc.poll() is not None:
                    return "node %s exited with status %s" % (name, proc.returncode)
            if self.nginx.poll() is not None:
                return "nginx exited with status %s" % self.nginx.returncode
            return None
        self.wait_until_serving(exited, timeout)

    def stop(self, timeout=40.0):
        """SIGTERM to each node, SIGQUIT to nginx (both finish what they
        hold); whatever outlives them is killed by pid. Returns those names."""
        if not self.nodes and not self.nginx:
            return []
        self.note_processes()
        procs = [(n[4], signal.SIGTERM) for n in self.nodes]
        if self.nginx:
            procs.append((self.nginx, signal.SIGQUIT))
        for proc, sig in procs:
            if proc.poll() is None:
                proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        for proc, _ in procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.roots_stopped.add(proc.pid)
        killed = self.reap(time.monotonic() + 5)
        self.nodes, self.nginx = [], None
        return killed
