#!/usr/bin/env python3
"""A recording proxy: forwards every request to a real inference engine and appends the
exchange to a JSONL file, for swerm's tests to replay (tests/it/engine.rs) without the engine.

    scripts/record_engine.py --upstream http://127.0.0.1:18101 --port 18201 --out FILE
    scripts/record_engine.py --upstream URL --port-file F ...   # a free port, written to F once bound

Each line: {"method", "path", "request" (the JSON body, or null), "status", "response" (the
JSON body, or its text)}. Standard library only. scripts/engine-check.sh runs it.

It also stages the check's crashes where they cannot come too late:

    scripts/record_engine.py --upstream URL --port P --kill-after 2 --kill PIDFILE [--group]

on the 2nd scoring POST (not /tokenize; before forwarding it) sends SIGKILL to the process whose id PIDFILE holds
(its process group with --group: a vLLM server and its workers) and exits at once, so that
request and every later connection fail as they do when a server dies. A kill timed by polling
the store from the shell landed after the last score on a loaded 2-core CI machine. What it
did goes to stderr: with --kill-after each scoring POST counted and `killed PID (group) on POST N`;
every request it could not forward (answered 502, which swerm retries).
"""
import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0, help="0 (the default): a free port")
    ap.add_argument("--port-file", help="write the port here once it is bound (no race for a free port)")
    ap.add_argument("--out", help="the JSONL file of exchanges (none without it)")
    ap.add_argument("--kill-after", type=int, help="on this scoring POST (not /tokenize), kill --kill's process and exit")
    ap.add_argument("--kill", help="a file holding the process id to kill")
    ap.add_argument("--group", action="store_true", help="kill the process's group")
    a = ap.parse_args()
    if (a.kill_after is None) != (a.kill is None):
        ap.error("--kill-after and --kill go together")
    lock = threading.Lock()
    out = open(a.out, "a", encoding="utf-8") if a.out else None
    posts = [0]

    def say(msg):
        sys.stderr.write(f"record_engine: {msg}\n")
        sys.stderr.flush()

    def crash_now(n):
        pid = int(open(a.kill).read().strip())
        try:
            if a.group:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
            say(f"killed {pid}{' (group)' if a.group else ''} on POST {n}")
        except ProcessLookupError as e:
            say(f"could not kill {pid}{' (group)' if a.group else ''} on POST {n}: {e}")
        os._exit(0)

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm on, each answer on a
        # kept-alive connection waited ~40 ms for the client's delayed ACK (the proxied
        # replica then took a fraction of the work, too little to reach --kill-after).
        disable_nagle_algorithm = True

        def forward(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            scoring = method == "POST" and not self.path.rstrip("/").endswith(("/tokenize", "/detokenize"))
            if scoring and a.kill_after is not None:
                with lock:
                    posts[0] += 1
                    say(f"POST {posts[0]} {self.path}")
                    if posts[0] >= a.kill_after:
                        crash_now(posts[0])
            req = urllib.request.Request(a.upstream + self.path, data=body, method=method)
            if body is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            except OSError as e:  # the upstream refused, reset or timed out: not recorded
                say(f"{method} {self.path}: upstream failed: {e}")
                data = json.dumps({"error": f"proxy: upstream failed: {e}"}).encode()
                self.answer(502, data)
                return
            text = data.decode("utf-8")
            try:
                response = json.loads(text)
            except ValueError:
                response = text
            row = {"method": method, "path": self.path, "request": json.loads(body) if body else None,
                   "status": status, "response": response}
            if out is not None:
                with lock:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    out.flush()
            self.answer(status, data)

        def answer(self, status, data):
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

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Proxy)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.replace(tmp, a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
