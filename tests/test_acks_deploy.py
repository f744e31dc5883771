"""阅知确认 through the shipped nginx recipe (Debian nginx): ``auth_request`` to a stub SSO gateway
sets the user; kb serve trusts only what nginx sends with the proxy secret; the browser clicks
the button. And where there is no service (a static deployment), the button stays hidden."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from acks_client import DOC, SECRET, VERSION, call
from kb.acks.records import AckStore
from kb.store.db import open_engine
from conftest import serious_axe_violations
from served import Served, stop_processes
from test_deploy import DEPLOY, _free_port, _nginx, _wait_http, nginx_config

PAGE = "/policies/information-security/"
#: the stub SSO's sessions: cookie value -> (user, groups)
SESSIONS = {"s-zhangsan": ("zhangsan", "全体员工,制度管理员"), "s-lisi": ("lisi", "全体员工"),
            "s-wangwu": ("wangwu", "运维组"), "s-zhaoliu": ("赵六", "全体员工")}
SHIPPED_SSO = "http://127.0.0.1:9180/sso/check"
SHIPPED_SECRET_CONF = "/etc/nginx/kb-ack-secret.conf"


class StubSSO(BaseHTTPRequestHandler):
    """``GET /sso/check``: 200 with X-Remote-User/X-Remote-Groups for a known ``kb_sso`` cookie,
    else 401 — what an SSO gateway answers nginx's auth_request."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        cookies = dict(part.strip().split("=", 1) for part in
                       (self.headers.get("Cookie") or "").split(";") if "=" in part)
        session = SESSIONS.get(cookies.get("kb_sso", ""))
        self.server.calls.append(self.path)  # type: ignore[attr-defined]
        if self.path != "/sso/check" or session is None:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(204)
        self.send_header("X-Remote-User", session[0].encode("utf-8").decode("latin-1"))
        self.send_header("X-Remote-Groups", session[1].encode("utf-8").decode("latin-1"))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def acks_nginx_config(work: Path, target: Path, port: int, upstream: int, sso_port: int) -> Path:
    """The shipped site config with the acknowledgement include switched on, its snippet's
    marked values (SSO endpoint, secret file) set for this test."""
    conf = nginx_config(work, target, port, upstream)
    site = (work / "kb-site.conf").read_text(encoding="utf-8")
    line = "# include snippets/kb-acks-server.conf;"
    assert line in site, "kb-internal.conf lost the acknowledgement include"
    (work / "kb-site.conf").write_text(site.replace(line, line[2:]), encoding="utf-8")
    snippet = (DEPLOY / "nginx" / "kb-acks-server.conf").read_text(encoding="utf-8")
    for old in (SHIPPED_SSO, SHIPPED_SECRET_CONF):
        assert old in snippet, f"kb-acks-server.conf lost {old!r}"
    secret_conf = work / "kb-ack-secret.conf"
    secret_conf.write_text(f'proxy_set_header X-KB-Proxy-Secret "{SECRET}";\n', encoding="utf-8")
    snippet = (snippet.replace(SHIPPED_SSO, f"http://127.0.0.1:{sso_port}/sso/check")
               .replace(SHIPPED_SECRET_CONF, str(secret_conf)))
    (work / "snippets" / "kb-acks-server.conf").write_text(snippet, encoding="utf-8")
    return conf


@pytest.fixture(scope="module")
def proxied(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """nginx (shipped recipe) -> stub SSO + kb serve with acknowledgements (SQLite)."""
    base = tmp_path_factory.mktemp("acks-deploy")
    target = base / "srv"
    target.mkdir()
    (target / "current").symlink_to(demo_site)
    secret = base / "secret"
    secret.write_text(SECRET, encoding="utf-8")
    db = base / "acks.db"
    sso = ThreadingHTTPServer(("127.0.0.1", 0), StubSSO)
    sso.calls = []  # type: ignore[attr-defined]
    threading.Thread(target=sso.serve_forever, daemon=True).start()
    served = Served(target, "off", "--workers", "1", "--ack-proxy-secret-file", str(secret),
                    "--ack-db", str(db))
    web_port = _free_port()
    work = base / "nginx"
    work.mkdir()
    upstream = int(served.base.rstrip("/").rsplit(":", 1)[1])
    conf = acks_nginx_config(work, target, web_port, upstream, sso.server_address[1])
    check = subprocess.run(_nginx(conf, "-t"), capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen(_nginx(conf), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        url = f"http://127.0.0.1:{web_port}"
        _wait_http(url + "/")
        yield {"url": url, "api": served.base, "db": str(db), "sso": sso, "work": work}
    finally:
        stop_processes(nginx)
        served.stop()
        sso.shutdown()
        sso.server_close()


def _cookie(session: str) -> dict[str, str]:
    return {"Cookie": f"kb_sso={session}"}


def _records(db: str) -> dict[str, str]:
    store = AckStore(open_engine(db))
    try:
        return {r.user_id: r.version for r in store.confirmations(DOC)}
    finally:
        store.close()


def test_nginx_sets_identity_from_sso_only(proxied: dict) -> None:
    """Signed out: 401 from nginx. Signed in as 李四 while sending someone else's user header
    and a guessed secret: kb serve sees 李四 (nginx replaced both headers)."""
    url = proxied["url"]
    code, _, _ = call(url, f"/api/ack?doc_id={DOC}")
    assert code == 401
    forged = {"X-Remote-User": "zhangsan", "X-Remote-Groups": "制度管理员",
              "X-KB-Proxy-Secret": "guess-guess-guess-guess", "X_Remote_User": "zhangsan",
              **_cookie("s-lisi")}
    code, headers, body = call(url, f"/api/ack?doc_id={DOC}", headers=forged)
    assert code == 200, body
    data = json.loads(body)
    assert data["user"] == "lisi" and data["version"] == VERSION
    assert headers["cache-control"] == "no-store"
    code, _, body = call(url, "/api/ack/report", headers=forged)
    assert code == 403 and json.loads(body)["error"] == "not_admin"
    code, headers, body = call(url, "/api/ack/report", headers=_cookie("s-zhangsan"))
    assert code == 200 and "阅知确认报告" in body.decode("utf-8")


def test_confirm_through_nginx_records_the_sso_user(proxied: dict) -> None:
    url = proxied["url"]
    who = {"X-Remote-User": "zhangsan", **_cookie("s-wangwu")}
    code, _, body = call(url, f"/api/ack?doc_id={DOC}", headers=who)
    token = json.loads(body)["token"]
    post = {**who, "X-KB-Token": token, "Origin": url, "Content-Type": "application/json"}
    payload = json.dumps({"doc_id": DOC, "version": VERSION}).encode()
    code, _, body = call(url, "/api/ack", "POST", post, payload)
    assert code == 201, body
    assert json.loads(body)["user"] == "wangwu"
    code, _, body = call(url, "/api/ack", "POST", post, payload)  # the same token again
    assert code == 409 and json.loads(body)["error"] == "csrf_replayed"
    code, _, body = call(url, "/api/ack", "POST", {**post, "Origin": "http://evil.example"},
                         payload)
    assert code == 403
    records = _records(proxied["db"])
    assert records.get("wangwu") == VERSION and "zhangsan" not in records
    # straight to kb serve, past nginx: the same headers are refused
    code, _, body = call(proxied["api"], f"/api/ack?doc_id={DOC}", headers=who)
    assert code == 403 and json.loads(body)["error"] == "not_via_proxy"


def test_other_methods_refused_by_nginx(proxied: dict) -> None:
    code, _, _ = call(proxied["url"], "/api/ack", "DELETE", _cookie("s-lisi"))
    assert code == 403


@pytest.mark.browser
def test_browser_clicks_the_button_through_nginx(proxied: dict, browser,
                                                 tmp_path: Path) -> None:
    """赵六 opens the policy through nginx, sees the button with the version, clicks it, reads
    "您已于 … 确认"; after a reload the page still says so and the button is gone."""
    url = proxied["url"]
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "kb_sso", "value": "s-zhaoliu", "url": url}])
    page = context.new_page()
    try:
        page.goto(url + PAGE)
        button = page.get_by_role("button", name=f"我已阅读并理解本制度（v{VERSION}）")
        button.wait_for(state="visible", timeout=15000)
        button.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "before.png"), full_page=False)
        problems = [v for v in serious_axe_violations(page)
                    if any("kb-ack" in str(n.get("html")) for n in v.get("nodes", []))]
        assert problems == [], problems
        button.click()
        status = page.locator(".kb-ack__status")
        page.wait_for_function("""() => !/正在提交/.test(
            document.querySelector('.kb-ack__status').textContent)""", timeout=15000)
        text = status.inner_text().strip()
        assert re.fullmatch(r"您已于 \d{4}-\d{2}-\d{2} 确认", text), text
        assert not button.is_visible()
        page.reload()
        page.locator(".kb-ack__status").filter(has_text="您已于").wait_for(timeout=15000)
        assert not page.get_by_role("button", name=re.compile("我已阅读")).is_visible()
        page.locator(".kb-ack__status").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "after.png"), full_page=False)
        assert _records(proxied["db"]).get("赵六") == VERSION
    finally:
        context.close()


@pytest.mark.browser
def test_button_hidden_without_the_service(proxied: dict, demo_site: Path, browser,
                                           static_server) -> None:
    """A static deployment (no /api/ack: not even asked) and a reader nginx did not sign in:
    no button."""
    static = static_server(demo_site).rstrip("/")
    for base, cookies in ((static, []), (proxied["url"], [])):
        context = browser.new_context()
        page = context.new_page()
        try:
            answered: list[int] = []
            page.on("response", lambda r: answered.append(r.status) if "/api/ack" in r.url
                    else None)
            page.goto(base + PAGE)
            form = page.locator('form[data-kb-ack][data-state="unavailable"]')
            form.wait_for(state="attached", timeout=15000)
            if base == static:  # the page's one probe (api/health) said: no service
                assert answered == [], answered
            else:
                assert answered and answered[0] == 401, answered
            assert form.count() == 1 and not form.is_visible()
        finally:
            context.close()
