#!/usr/bin/env python3
"""serve_fixture.py - serve one file over HTTP on 127.0.0.1 for the vitals lint tests.

Usage: serve_fixture.py PORT FILE CONTENT_TYPE LOG

Every GET answers FILE's bytes with the given Content-Type ("-" sends none),
and appends the request's Accept header to LOG, one line per request, so
the tests can check what `vitals lint` asked for. A path ending in "/404"
answers 404. Stopped by the test with SIGTERM.

SPDX-License-Identifier: MIT
"""
import http.server
import sys


def main():
    port, path, content_type, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(path, "rb") as f:
        body = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(log, "a", encoding="utf-8") as f:
                f.write((self.headers.get("Accept") or "") + "\n")
            if self.path.endswith("/404"):
                self.send_error(404)
                return
            self.send_response(200)
            if content_type != "-":
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
