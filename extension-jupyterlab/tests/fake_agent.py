"""A stand-in for `ray-connect serve`: the same HTTP protocol (shared/src/protocol.ts) with canned state.

Test-only extras, called directly on the agent (never through the proxy): testRotate, testCrash, testProcess,
testSleep (answers after args[0] seconds, without holding the state lock), testConnection (args: ref, fields to
change on that connection, e.g. dashboardUrl/authMode/state; emits connection-changed), testCalls (how often each
method was called).
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("RAY_CONNECT_AGENT_SECRET", "")
VERSION = os.environ.get("FAKE_AGENT_VERSION", "0.1.0")
PROTOCOL = int(os.environ.get("FAKE_AGENT_PROTOCOL", "1"))
LOCK = threading.Lock()
SUBSCRIBERS: list[queue.Queue] = []

STATE = {
    "signIn": {"status": "signed-out"},
    "connections": {},
    "tokenVersion": 1,
    "calls": {},
}
RAY = {"clusterId": "context:fake", "namespace": "team-a", "name": "raycluster-token"}


def cluster() -> dict:
    return {
        "id": "context:fake",
        "name": "fake",
        "server": "https://127.0.0.1:6443",
        "source": "kubeconfig",
        "namespace": "team-a",
        "namespaces": ["team-a"],
        "current": True,
        "signIn": STATE["signIn"],
        "storage": {"kind": "memory", "label": "memory only: lost when the agent stops"},
    }


def emit(event: dict) -> None:
    for q in list(SUBSCRIBERS):
        q.put(event)


def key(ref: dict) -> str:
    return f"{ref['clusterId']}/{ref['namespace']}/{ref['name']}"


def connection(ref: dict, state: str = "ready") -> dict:
    return {
        "clusterId": ref["clusterId"],
        "namespace": ref["namespace"],
        "name": ref["name"],
        "state": state,
        "dashboardUrl": "http://127.0.0.1:18265",
        "clientAddress": "ray://127.0.0.1:10001",
        "authMode": "token",
        "tokenVersion": STATE["tokenVersion"],
        "since": 0,
    }


class Error(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def signed_in() -> None:
    if STATE["signIn"]["status"] != "signed-in":
        raise Error(401, "SIGNED_OUT", "Sign in to fake first.")


def finish_browser(callback: str) -> dict:
    """Like the core: the flow is found by the state the redirect carries; the code is redeemed once."""
    from urllib.parse import parse_qs, urlsplit

    STATE["lastCallback"] = callback
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    flow = STATE.get("browser")
    if not flow or query.get("state") != flow["state"]:
        raise Error(404, "LOGIN_NOT_FOUND", "No browser sign-in in progress matches this answer from the sign-in page.")
    if query.get("error") == "access_denied":
        STATE.pop("browser", None)
        raise Error(499, "LOGIN_CANCELLED", "Completing the browser sign-in: the sign-in was denied at https://idp.")
    if query.get("code") == "html":
        raise Error(502, "IDP_ERROR", "https://idp answered <script>alert(1)</script>.")
    if query.get("code") != "good-code":
        raise Error(502, "IDP_ERROR", "https://idp refused the code from the sign-in page (invalid_grant).")
    STATE.pop("browser", None)
    STATE["signIn"] = {"status": "signed-in", "method": "browser", "identity": {"username": "alice", "groups": []}}
    emit({"type": "sign-in-changed", "clusterId": "context:fake", "state": STATE["signIn"]})
    return {"clusterId": "context:fake", "clusterName": "fake", "state": STATE["signIn"]}


def handle(method: str, args: list):
    STATE["calls"][method] = STATE["calls"].get(method, 0) + 1
    if method == "version":
        return {"version": VERSION, "protocol": PROTOCOL}
    if method == "listClusters":
        return [cluster()]
    if method == "beginSignIn":
        cluster_id, inp = args[0], args[1]
        if inp.get("method") == "token":
            if inp.get("token") != "good-token":
                raise Error(401, "TOKEN_INVALID", "The API server did not accept the token.")
            STATE["signIn"] = {"status": "signed-in", "method": "token", "identity": {"username": "alice", "groups": []}}
            emit({"type": "sign-in-changed", "clusterId": cluster_id, "state": STATE["signIn"]})
            return {"kind": "done", "state": STATE["signIn"]}
        if inp.get("method") == "browser":
            STATE["browser"] = {"loginId": "b1", "state": "s1", "redirectUri": inp.get("redirectUri")}
            return {"kind": "browser", "loginId": "b1", "url": "https://idp/authorize?state=s1"}
        if inp.get("method") == "device":
            return {"kind": "device", "loginId": "l1", "userCode": "ABCD-EFGH", "verificationUri": "https://idp/device", "expiresAt": 9e12, "intervalSeconds": 1}
        raise Error(400, "BAD_REQUEST", "unsupported")
    if method == "finishBrowserSignIn":
        return finish_browser(args[0])
    if method == "testLastCallback":
        return STATE.get("lastCallback")
    if method == "signOut":
        STATE["signIn"] = {"status": "signed-out"}
        removed = [f"connection {c['name']}" for c in STATE["connections"].values()]
        for c in list(STATE["connections"].values()):
            emit({"type": "connection-changed", "connection": {**c, "state": "disconnected"}})
        STATE["connections"].clear()
        emit({"type": "sign-in-changed", "clusterId": args[0], "state": STATE["signIn"]})
        return {"removed": ["token (memory)", *removed]}
    if method == "listRayClusters":
        signed_in()
        return {"items": [{**RAY, "state": "ready", "authMode": "token", "tokenSource": {"kind": "secret", "secretName": "x", "key": "auth_token"}, "ports": {"dashboard": 8265}, "warnings": []}], "searched": ["team-a"], "errors": []}
    if method == "connect":
        signed_in()
        ref = args[0]
        if key(ref) != key(RAY):
            raise Error(404, "RAYCLUSTER_NOT_FOUND", f"No Ray cluster {ref['name']}.")
        conn = connection(ref)
        STATE["connections"][key(ref)] = conn
        emit({"type": "connection-changed", "connection": conn})
        return conn
    if method == "disconnect":
        conn = STATE["connections"].pop(key(args[0]), None)
        if conn:
            emit({"type": "connection-changed", "connection": {**conn, "state": "disconnected"}})
        return {"removed": ["port-forward"] if conn else []}
    if method == "listConnections":
        return list(STATE["connections"].values())
    if method == "sessionEnv":
        if key(args[0]) not in STATE["connections"]:
            raise Error(409, "RAY_UNREACHABLE", "Not connected.")
        v = STATE["tokenVersion"]
        return {"env": {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": f"fake-token-{v}", "RAY_ADDRESS": "http://127.0.0.1:18265"}, "tokenVersion": v}
    if method == "rayToken":
        conn = STATE["connections"].get(key(args[0]))
        if conn and conn.get("rayTokenError"):
            raise Error(403, conn["rayTokenError"], f"No right to read the Ray token of {args[0]['name']}.")
        if conn and conn["authMode"] == "none":
            raise Error(404, "RAY_TOKEN_NOT_FOUND", f"Ray cluster {args[0]['name']} has no auth: there is no token")
        return {"token": f"fake-token-{STATE['tokenVersion']}"}
    if method == "testConnection":
        conn = STATE["connections"][key(args[0])]
        conn.update(args[1])
        emit({"type": "connection-changed", "connection": dict(conn)})
        return conn
    if method == "testCalls":
        return STATE["calls"]
    if method == "testRotate":
        STATE["tokenVersion"] += 1
        for k, c in STATE["connections"].items():
            c["tokenVersion"] = STATE["tokenVersion"]
            emit({"type": "token-rotated", "ref": {x: c[x] for x in ("clusterId", "namespace", "name")}, "tokenVersion": STATE["tokenVersion"]})
        return STATE["tokenVersion"]
    if method == "testCrash":
        threading.Timer(0.05, lambda: os._exit(3)).start()
        return True
    if method == "testProcess":
        return {"argv": sys.argv, "envKeys": sorted(os.environ), "pid": os.getpid()}
    raise Error(404, "BAD_REQUEST", f"Unknown method {method}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a) -> None:  # quiet
        pass

    def _auth(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {SECRET}" or not SECRET:
            self._json(401, {"error": {"code": "BAD_REQUEST", "message": "no"}})
            return False
        if self.headers.get("Origin"):
            self._json(403, {"error": {"code": "BAD_REQUEST", "message": "no browsers"}})
            return False
        return True

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if not self._auth():
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        method = self.path.rsplit("/", 1)[-1]
        if method == "testSleep":
            time.sleep(float(body.get("args", [1])[0]))
            self._json(200, {"result": True})
            return
        try:
            with LOCK:
                result = handle(method, body.get("args", []))
            self._json(200, {"result": result})
        except Error as e:
            self._json(e.status, {"error": {"code": e.code, "message": e.message}})

    def do_GET(self) -> None:
        if not self._auth():
            return
        if self.path == "/v1/version":
            self._json(200, handle("version", []))
            return
        if self.path != "/v1/events":
            self._json(404, {"error": {"code": "BAD_REQUEST", "message": "not found"}})
            return
        q: queue.Queue = queue.Queue()
        SUBSCRIBERS.append(q)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self._chunk(b": hello\n\n")
            while True:
                try:
                    event = q.get(timeout=5)
                    self._chunk(f"data: {json.dumps(event)}\n\n".encode())
                except queue.Empty:
                    self._chunk(b": ping\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            SUBSCRIBERS.remove(q)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"ready": True, "port": server.server_address[1], "version": VERSION, "protocol": PROTOCOL, "pid": os.getpid()}), flush=True)

    def watch_stdin() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
