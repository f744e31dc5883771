"""An HTTP client of the acknowledgement API acting as the proxy would (or would not).
Imported by the acknowledgement tests, not collected."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode, urlsplit

#: the proxy secret of the test deployments
SECRET = "test-proxy-secret-0f3c9a71b2"
DOC = "XXZX-ZD-004"  # policies/information-security.md: acknowledge: required
VERSION = "3.1"


def call(base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None,
         body: bytes | None = None, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        raw = {k: v.encode("utf-8").decode("latin-1") for k, v in (headers or {}).items()}
        conn.request(method, path, body=body, headers=raw)  # UTF-8 header bytes, as nginx
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class Staff:
    """One signed-in user as the proxy presents them to ``kb serve`` at ``base``."""

    def __init__(self, base: str, user: str | None, groups: str | None = None,
                 secret: str | None = SECRET, origin: str | None = "same") -> None:
        self.base, self.user, self.groups, self.secret = base.rstrip("/"), user, groups, secret
        parts = urlsplit(base)
        self.origin = f"http://{parts.netloc}" if origin == "same" else origin

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.secret is not None:
            out["X-KB-Proxy-Secret"] = self.secret
        if self.user is not None:
            out["X-Remote-User"] = self.user
        if self.groups is not None:
            out["X-Remote-Groups"] = self.groups
        return out

    def status(self, doc_id: str | None = DOC) -> tuple[int, dict]:
        query = "?" + urlencode({"doc_id": doc_id}) if doc_id is not None else ""
        code, _, body = call(self.base, "/api/ack" + query, headers=self.headers())
        return code, json.loads(body)

    def token(self) -> str:
        code, data = self.status()
        assert code == 200, data
        return data["token"]

    def confirm(self, doc_id: object = DOC, version: object = VERSION, token: str | None = "new",
                body: bytes | None = None, content_type: str = "application/json",
                extra: dict[str, str] | None = None) -> tuple[int, dict]:
        headers = self.headers()
        if token == "new":
            token = self.token()
        if token is not None:
            headers["X-KB-Token"] = token
        if self.origin is not None:
            headers["Origin"] = self.origin
        headers["Content-Type"] = content_type
        headers.update(extra or {})
        if body is None:
            body = json.dumps({"doc_id": doc_id, "version": version}).encode()
        code, _, raw = call(self.base, "/api/ack", "POST", headers, body)
        return code, json.loads(raw)
