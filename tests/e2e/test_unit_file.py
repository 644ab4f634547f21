"""The deployment files in nginx/: the systemd unit passes `systemd-analyze
verify` and rates "OK" (exposure at most 2.5) in `systemd-analyze security`;
the unit, the example env file, the nginx site and the logrotate file agree
on the state dir, the sockets and the log; the example env file is a valid
configuration. systemd-analyze needs no running systemd
(scripts/install-deps.sh installs it); without it these tests fail."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

NGINX_DIR = os.path.join(harness.SOURCE_DIR, "nginx")
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
INSTALLED_BINARY = "/usr/local/bin/cryptopay-auth"
MAX_EXPOSURE = 2.5


def read(name):
    with open(os.path.join(NGINX_DIR, name)) as f:
        return f.read()


def directives(unit_text):
    """{key: [values]} of the unit's directive lines (comments skipped)."""
    out = {}
    for line in unit_text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        out.setdefault(key, []).append(value)
    return out


def env_file():
    values = {}
    for line in read("cryptopay-auth.env").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


class SystemdAnalyze(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(SYSTEMD_ANALYZE, os.X_OK),
                        "%s is missing: scripts/install-deps.sh installs systemd" % SYSTEMD_ANALYZE)
        # verify wants ExecStart's binary to exist: the unit as shipped, but
        # pointing at this build's binary.
        d = tempfile.mkdtemp(prefix="cpa-unit-")
        self.addCleanup(shutil.rmtree, d, True)
        text = read("cryptopay-auth.service")
        self.assertIn("ExecStart=%s " % INSTALLED_BINARY, text)
        self.unit = os.path.join(d, "cryptopay-auth.service")
        with open(self.unit, "w") as f:
            f.write(text.replace(INSTALLED_BINARY, os.path.abspath(harness.BINARY)))

    def analyze(self, *args):
        return subprocess.run([SYSTEMD_ANALYZE, "--no-pager", *args], capture_output=True,
                              encoding="utf-8", errors="replace", timeout=60,
                              env=dict(os.environ, SYSTEMD_COLORS="0", LC_ALL="C.UTF-8"))

    def test_verify_is_clean(self):
        r = self.analyze("verify", self.unit)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_exposure_is_ok(self):
        r = self.analyze("security", "--offline=true", self.unit)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"Overall exposure level for cryptopay-auth\.service: (\d+\.\d+) (\w+)",
                      r.stdout)
        self.assertTrue(m, r.stdout[-2000:])
        exposure, rating = float(m.group(1)), m.group(2)
        self.assertLessEqual(exposure, MAX_EXPOSURE, r.stdout)
        self.assertEqual(rating, "OK")


class TheFilesAgree(unittest.TestCase):
    def setUp(self):
        self.unit = directives(read("cryptopay-auth.service"))
        self.env = env_file()

    def test_unit_directories_are_the_env_files(self):
        state = "/var/lib/" + self.unit["StateDirectory"][0]
        runtime = "/run/" + self.unit["RuntimeDirectory"][0]
        self.assertEqual(self.env["AUTH_STATE_DIR"], state)
        self.assertEqual(os.path.dirname(self.env["AUTH_SOCKET"]), runtime)
        self.assertEqual(os.path.dirname(self.env["AUTH_HASH_SOCKET"]), runtime)
        self.assertEqual(self.unit["StateDirectoryMode"], ["0700"])
        self.assertEqual(self.unit["RuntimeDirectoryMode"], ["0750"])
        self.assertEqual(self.unit["UMask"], ["0077"])
        self.assertEqual(self.unit["KillMode"], ["mixed"])
        # reload is the upgrade in place, in the same pid: MAINPID stays.
        self.assertEqual(self.unit["ExecReload"], ["/bin/kill -USR2 $MAINPID"])
        self.assertEqual(self.unit["Type"], ["simple"])

    def test_the_env_file_is_the_one_place(self):
        self.assertEqual(self.unit["ExecStart"],
                         ["%s --config /etc/cryptopay-auth.env serve" % INSTALLED_BINARY])
        self.assertNotIn("EnvironmentFile", self.unit)
        self.assertNotIn("Environment", self.unit)

    def test_nginx_site_connects_to_the_env_files_sockets(self):
        site = read("cryptopay-auth.site.conf")
        self.assertIn("server unix:%s;" % self.env["AUTH_SOCKET"], site)
        self.assertIn("server unix:%s;" % self.env["AUTH_HASH_SOCKET"], site)

    def test_logrotate_moves_the_default_log_and_sends_usr1_to_the_master(self):
        text = read("cryptopay-auth.logrotate")
        self.assertIn(self.env["AUTH_STATE_DIR"] + "/auth.log {", text)
        self.assertIn("nocreate", text)
        self.assertNotIn("copytruncate", text)
        self.assertIn("systemctl kill --kill-who=main --signal=SIGUSR1 cryptopay-auth.service",
                      text)

    def test_the_example_env_file_is_a_valid_configuration(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        example = os.path.join(NGINX_DIR, "cryptopay-auth.env")
        r = subprocess.run([harness.BINARY, "--config", example, "check"], capture_output=True,
                           text=True, env=env, timeout=30)
        config = [line for line in r.stdout.splitlines() if line.startswith("config ")]
        self.assertEqual(len(config), 1, r.stdout)
        self.assertRegex(config[0], r"^config\s+ok\s+.*cryptopay-auth\.env \(--config\)")


if __name__ == "__main__":
    unittest.main()
