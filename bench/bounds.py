"""The bounds measured before the service starts: the machine, and the cost of
one password hash, OpenSSL's and ours."""

import base64
import hashlib
import json
import os
import platform
import secrets
import string
import subprocess
import time

from config import ITERATIONS, PASSWORD, WRK

def describe_machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    wrk_version = subprocess.run([WRK, "--version"], capture_output=True, text=True).stdout
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True).stderr
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "kernel": platform.release(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "wrk": wrk_version.split("[")[0].strip(),
        "nginx": nginx.strip(),
        "openssl": __import__("ssl").OPENSSL_VERSION,
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


def time_openssl_hash():
    """One PBKDF2-SHA256 by OpenSSL's PKCS5_PBKDF2_HMAC (which Python's hashlib
    calls): the best of 5, since interference only adds time."""
    salt = b"benchsaltbenchsalt1234"
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, ITERATIONS)
        samples.append(time.perf_counter() - start)
    return {"method": "OpenSSL PKCS5_PBKDF2_HMAC (Python hashlib.pbkdf2_hmac, %s)"
                      % hashlib.pbkdf2_hmac.__module__,
            "one_hash_s": min(samples), "samples_s": samples}


def time_our_hash(binary, cores):
    """One hash of ours (auth/pbkdf2, what a login spends), timed by the
    service's binary (`cryptopay-auth time-hash`, hidden): the best of 5; and
    the rate `cores` such processes reach together (what a pool can reach)."""
    def run(n):
        out = subprocess.run([binary, "time-hash", str(n), str(ITERATIONS)], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)
    one = run(5)
    per_process = 3
    start = time.perf_counter()
    procs = [subprocess.Popen([binary, "time-hash", str(per_process), str(ITERATIONS)],
                              stdout=subprocess.DEVNULL) for _ in range(cores)]
    for p in procs:
        p.wait()
    one["parallel_processes_rps"] = cores * per_process / (time.perf_counter() - start)
    return one


def time_pbkdf2(cores, binary):
    """Both hashes at ITERATIONS, and the login rates they bound: cores ÷ one
    hash of each."""
    openssl = time_openssl_hash()
    ours = time_our_hash(binary, cores)
    return {"iterations": ITERATIONS, "cores": cores, "openssl": openssl, "ours": ours,
            "openssl_bound_rps": cores / openssl["one_hash_s"],
            "our_bound_rps": cores / ours["one_hash_s"]}


def django_hash(password, iterations):
    alphabet = string.ascii_letters + string.digits
    salt = "".join(secrets.choice(alphabet) for _ in range(22))
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt, base64.b64encode(key).decode())
