"""hello_service.py - start and stop the http_hello example for the script
tests, send it requests, and the skip rule shared by those tests.

The example runs on 127.0.0.1 with a port it picks; its pid is kept so that
stop() ends exactly that process.

SPDX-License-Identifier: MIT
"""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SKIP = 77


def skip(reason):
    """Exit 77 (skipped), or 1 when CI is set: CI installs every prerequisite."""
    if os.environ.get("CI"):
        print(f"FAIL (prerequisite missing under CI): {reason}")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hello:
    """A running http_hello; base is its URL, e.g. http://127.0.0.1:40123/."""

    def __init__(self, binary, *args):
        self.proc = subprocess.Popen(
            [binary, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.proc.stdout.readline()
        m = re.search(r"(http://[0-9.]+:[0-9]+/)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"http_hello did not print its URL: {line!r}")
        self.base = m.group(1)
        self.port = int(self.base.rsplit(":", 1)[1].rstrip("/"))

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers dict, body bytes); HTTP errors included."""
        req = urllib.request.Request(
            self.base + path.lstrip("/"), data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def wait_until(pred, timeout, step=0.25):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
