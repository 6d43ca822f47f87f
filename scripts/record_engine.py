#!/usr/bin/env python3
"""A recording proxy: forwards every request to a real inference engine and appends the
exchange to a JSONL file, for swerm's tests to replay (tests/it/engine.rs) without the engine.

    scripts/record_engine.py --upstream http://127.0.0.1:18101 --port 18201 --out FILE

Each line: {"method", "path", "request" (the JSON body, or null), "status", "response" (the
JSON body, or its text)}. Standard library only. scripts/engine-check.sh runs it.
"""
import argparse
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    lock = threading.Lock()
    out = open(a.out, "a", encoding="utf-8")

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            req = urllib.request.Request(a.upstream + self.path, data=body, method=method)
            if body is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            text = data.decode("utf-8")
            try:
                response = json.loads(text)
            except ValueError:
                response = text
            row = {"method": method, "path": self.path, "request": json.loads(body) if body else None,
                   "status": status, "response": response}
            with lock:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.forward("GET")

        def do_POST(self):
            self.forward("POST")

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", a.port), Proxy).serve_forever()


if __name__ == "__main__":
    main()
