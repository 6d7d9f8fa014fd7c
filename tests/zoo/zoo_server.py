#!/usr/bin/env python3
"""A small HTTP file server for the zoo tests (Python 3 standard library only).

Serves the files under --root over HTTP/1.1 on 127.0.0.1 with HEAD, GET and single Range requests
(`bytes=A-`, `bytes=A-B`, 206/416), and has test hooks:

  /drop/<path>   the first GET without a Range header sends the full Content-Length but only half the body,
                 then closes the connection; later requests are served normally (so a client can resume).
  anything missing under --root answers 404.

It binds port 0 (the system picks a free port) and writes the port to --port-file once it listens. Every
request is appended to --log as "METHOD PATH RANGE". It exits on SIGTERM/SIGINT, and by itself after
--lifetime seconds so a crashed test never leaves it behind.
"""
import argparse
import http.server
import os
import signal
import socketserver
import sys
import threading
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    dropped = set()
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: the request log file is what tests read
        pass

    def _log(self):
        with Handler.lock, open(self.server.log_path, "a") as f:
            f.write(f"{self.command} {self.path} {self.headers.get('Range', '-')}\n")

    def _resolve(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        drop = False
        if path.startswith("/drop/"):
            drop = True
            path = path[len("/drop"):]
        full = os.path.realpath(os.path.join(self.server.root, path.lstrip("/")))
        if not full.startswith(self.server.root + os.sep) or not os.path.isfile(full):
            return None, drop
        return full, drop

    def _not_found(self):
        body = b"not found\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self, head_only):
        self._log()
        full, drop = self._resolve()
        if full is None:
            self._not_found()
            return
        size = os.path.getsize(full)
        start, end = 0, size - 1
        rng = self.headers.get("Range")
        status = 200
        if rng:
            try:
                unit, spec = rng.split("=", 1)
                a, b = spec.split("-", 1)
                if unit.strip() != "bytes" or "," in spec:
                    raise ValueError
                start = int(a)
                end = int(b) if b else size - 1
            except ValueError:
                start, end = 0, size - 1
            else:
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                end = min(end, size - 1)
                status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head_only:
            return
        with open(full, "rb") as f:
            f.seek(start)
            data = f.read(length)
        first_plain_get = False
        if drop and not rng:
            with Handler.lock:
                if full not in Handler.dropped:
                    Handler.dropped.add(full)
                    first_plain_get = True
        if first_plain_get:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def do_HEAD(self):
        self._serve(True)

    def do_GET(self):
        self._serve(False)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120.0)
    a = p.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.root = os.path.realpath(a.root)
    server.log_path = a.log
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, a.port_file)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(a.lifetime, stop)
    timer.daemon = True
    timer.start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
