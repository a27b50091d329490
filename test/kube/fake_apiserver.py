#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake Kubernetes API server on loopback that misbehaves on purpose.

It answers GET /api/v1/namespaces (lists, paginated with limit/continue) and
GET /api/v1/namespaces?watch=1 (newline-delimited events) from a scenario
object, over TLS (a throwaway self-signed certificate, trusted through the
kubeconfig's certificate-authority-data) or plain HTTP. Every request is
recorded (time, kind, query, Authorization header), so that a test can
count requests over a window of time.

Used by test/kube/run.py; see there for the scenarios.
"""
import base64
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.parse

TOKEN = "fake-token-0123456789"


def namespace(name, annotations=None, rv="1"):
    return {"kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": name, "resourceVersion": rv,
                         "annotations": annotations or {}}}


def event(kind, obj):
    return (json.dumps({"type": kind, "object": obj}, separators=(",", ":")) + "\n").encode()


def namespace_list(items, rv="100", cont=""):
    meta = {"resourceVersion": rv}
    if cont:
        meta["continue"] = cont
    return json.dumps({"kind": "NamespaceList", "apiVersion": "v1", "metadata": meta,
                       "items": items}, separators=(",", ":")).encode()


class Request:
    def __init__(self, handler, kind, query):
        self.handler = handler
        self.kind = kind          # "list" or "watch"
        self.query = query        # dict of single values
        self.time = time.monotonic()
        self.auth = handler.headers.get("Authorization", "")

    def start(self, status=200, length=None):
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        if length is not None:
            h.send_header("Content-Length", str(length))
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True

    def write(self, data):
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def reply(self, status, body):
        self.start(status, len(body))
        self.write(body)

    def status(self, code, reason, message):
        self.reply(code, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                     "code": code, "reason": reason,
                                     "message": message}).encode())


class Scenario:
    """Default behaviour: one namespace, watches that stay open quietly."""

    def __init__(self):
        self.stop = threading.Event()

    def list(self, req):
        req.reply(200, namespace_list([namespace("shop")]))

    def watch(self, req):
        req.start(200)
        self.stop.wait()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        kind = "watch" if query.get("watch") in ("1", "true") else "list"
        req = Request(self, kind, query)
        with fake.lock:
            fake.requests.append(req)
        if url.path != "/api/v1/namespaces":
            req.status(404, "NotFound", "not found")
            return
        if req.auth != "Bearer " + TOKEN:
            req.status(401, "Unauthorized", "Unauthorized")
            return
        try:
            getattr(fake.scenario, kind)(req)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeAPIServer:
    def __init__(self, scenario, workdir, tls=True):
        self.scenario = scenario
        self.lock = threading.Lock()
        self.requests = []
        self.dir = workdir
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.tls = tls
        if tls:
            cert, key = self._certificate()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            with open(cert, "rb") as f:
                self.ca_pem = f.read()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _certificate(self):
        cert = os.path.join(self.dir, "apiserver.crt")
        key = os.path.join(self.dir, "apiserver.key")
        if not os.path.exists(cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        return cert, key

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def kubeconfig(self, server=None, ca_data=None):
        """Writes a kubeconfig for this server; returns its path."""
        cluster = {"server": server or self.url}
        if ca_data is not None:
            cluster["certificate-authority-data"] = ca_data
        elif self.tls:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
               "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
               "clusters": [{"name": "fake", "cluster": cluster}],
               "users": [{"name": "fake", "user": {"token": TOKEN}}]}
        path = os.path.join(self.dir, f"kubeconfig-{self.port}-{len(os.listdir(self.dir))}")
        with open(path, "w") as f:
            json.dump(cfg, f)   # JSON is YAML
        return path

    def count(self, kind=None, since=0.0, until=None):
        with self.lock:
            return sum(1 for r in self.requests
                       if (kind is None or r.kind == kind) and r.time >= since
                       and (until is None or r.time <= until))

    def close(self):
        self.scenario.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
