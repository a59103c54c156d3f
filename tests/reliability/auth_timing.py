#!/usr/bin/python3
"""auth_timing.py - basic-auth brute force against the embedded server: a wrong
user and a wrong password must cost the server the same time, every guess
must get 401, and a legitimate scraper with the right credentials keeps
scraping /metrics every 100 ms throughout.

Usage: auth_timing.py TARGET_BINARY [ROUNDS]   (at least ROUNDS, default 600,
                                               and 3 s; at most 20000)

Timing: the kinds of guess (a wrong user with the right password, the right
user with a wrong password, and both again with a 4000-byte password, where
hashing is a large part of the cost) take turns request by request on one
keep-alive connection, so that one server thread answers them all and drift
in machine load hits every kind alike; who goes first rotates each round. The statistic is
the ratio of the median round trips; an early return on a wrong user would
show as a ratio far from 1. The bound is generous (0.5 to 2) because the
machine is shared; the median of each kind and the ratio are printed.

SPDX-License-Identifier: MIT
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

USER = "prometheus"
PASSWORD = "k3v9-long-random-token-2f8a1c7d4e6b"


def timed(conn, req):
    t0 = time.perf_counter()
    conn.sendall(req)
    r = rlib.read_response(conn, time.monotonic() + 5)
    took = time.perf_counter() - t0
    if r is None:
        raise ConnectionError("closed")
    return r[0], took


def main():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        rlib.skip("usage: auth_timing.py TARGET_BINARY (reliability_target not built)")
    attempts = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    checks = rlib.Checks()
    t = rlib.Target(sys.argv[1], "--auth", f"{USER}:{PASSWORD}", "--load", "1")
    good = rlib.basic(USER, PASSWORD)
    checks.check(rlib.get(t.server, extra=good, timeout=5)[0] == 200, "right credentials: 200")
    checks.check(rlib.get(t.server, timeout=5)[0] == 401, "no credentials: 401")
    scraper = rlib.Scraper(t.server, extra=good)
    time.sleep(0.5)

    # Short guesses, and 4000-byte passwords that make the hash a large part
    # of a request's cost (an early return on a wrong user would skip it).
    long_pw = "p" * 4000
    kinds = {
        "wrong user": rlib.basic("prometheuz", PASSWORD),
        "wrong password": rlib.basic(USER, PASSWORD[:-1] + "x"),
        "wrong user, 4000-byte password": rlib.basic("prometheuz", long_pw),
        "wrong password, 4000 bytes": rlib.basic(USER, long_pw),
    }
    conn = rlib.connect(t.server)
    times = {k: [] for k in kinds}
    statuses = set()
    reconnects = 0
    rounds = 0
    t0 = time.monotonic()
    # At least `attempts` rounds and 3 s, at most 20000 rounds.
    while rounds < 20000 and (rounds < attempts or time.monotonic() - t0 < 3.0):
        rounds += 1
        # Rotate who goes first: the first request of a round runs slower.
        order = list(kinds.items())
        order = order[rounds % len(order):] + order[:rounds % len(order)]
        for k, hdr in order:
            req = f"GET /metrics HTTP/1.1\r\nHost: x\r\n{hdr}\r\n".encode()
            try:
                status, took = timed(conn, req)
            except (OSError, ConnectionError):
                # Should the server close after a 401, time the request again
                # on a fresh connection.
                reconnects += 1
                conn.close()
                conn = rlib.connect(t.server)
                status, took = timed(conn, req)
            statuses.add(status)
            times[k].append(took)
    attack_s = time.monotonic() - t0
    conn.close()
    time.sleep(0.3)
    scraper.finish()
    ok, n, worst = scraper.window(t0, t0 + attack_s)

    med = {k: rlib.median(v) for k, v in times.items()}
    print(f"{rounds} guesses of each kind in {attack_s:.1f} s ({reconnects} reconnects); "
          f"legitimate scrapes {ok}/{n} within 1 s (worst {worst:.3f} s)")
    for k, v in med.items():
        print(f"  median round trip, {k}: {v * 1e6:.1f} us")
    checks.check(statuses == {401}, f"every guess gets 401 (got {sorted(statuses)})")
    for a_, b_ in (("wrong user", "wrong password"),
                   ("wrong user, 4000-byte password", "wrong password, 4000 bytes")):
        ratio = med[a_] / med[b_]
        print(f"  ratio {a_} / {b_}: {ratio:.3f}")
        checks.check(0.5 <= ratio <= 2.0, f"median ratio {a_} / {b_} = {ratio:.3f}")
    checks.check(n > 0 and ok >= 0.99 * n, f"legitimate scrapes {ok}/{n} within 1 s")
    checks.check(t.alive(), "target alive")
    rc = t.stop()
    checks.check(rc == 0, f"target exit status {rc}")
    checks.report()


if __name__ == "__main__":
    main()
