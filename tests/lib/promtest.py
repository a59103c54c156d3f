"""promtest.py - a private Prometheus for the integration scripts: started on
127.0.0.1 on a free port with a one-target scrape config in a scratch
directory, stopped by its pid; plus the HTTP API calls the scripts make.

SPDX-License-Identifier: MIT
"""
import json
import os
import socket
import subprocess
import urllib.parse
import urllib.request


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(prometheus, tmp, job, target_port, *flags):
    """Prometheus scraping 127.0.0.1:target_port every second as job; its
    config, data and log live in tmp. Returns (process, its port)."""
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n  - job_name: {job}\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n"
        )
    with open(os.path.join(tmp, "prometheus.log"), "w") as log:
        proc = subprocess.Popen(
            [prometheus, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{port}", *flags],
            stdout=log, stderr=subprocess.STDOUT,
        )
    return proc, port


def stop(proc):
    """Stop a process this script started, by its pid."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api(prom_port, path, **params):
    """GET an API path: the decoded JSON, or None when Prometheus is not there."""
    url = f"http://127.0.0.1:{prom_port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)
    except OSError:
        return None


def query(prom_port, q):
    """An instant query's result list, or None on any failure."""
    d = api(prom_port, "/api/v1/query", query=q)
    if not d or d.get("status") != "success":
        return None
    return d["data"]["result"]
