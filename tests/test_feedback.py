""""本页有帮助吗？": real HTTP against a real ``kb serve`` of the demo site, the SQLite file it
writes, ``kb report --feedback``, and the widget in chromium (shown with the service, hidden on
a static deployment)."""

from __future__ import annotations

import http.client
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, build_env
from served import Served

PAGE = "/policies/network/"


@pytest.fixture(scope="module")
def service(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    db = tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"
    served = Served(demo_site, "off", "--workers", "1", "--feedback", str(db),
                    "--user-header", "X-Remote-User")
    try:
        yield served, db
    finally:
        served.stop()


def send(base: str, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, \
            (json.loads(raw) if raw else {})
    finally:
        conn.close()


def token(base: str) -> str:
    status, headers, data = send(base, "GET", "/api/feedback")
    assert status == 200 and data["enabled"] is True
    cookie = headers["set-cookie"]
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie
    assert cookie.startswith(f"kb_feedback={data['token']};")
    return data["token"]


def vote(base: str, payload: object, *, reader: str | None = None, tok: str | None = None,
         origin: str | None = "same", cookie: str | None = "same",
         ctype: str = "application/json") -> tuple[int, dict[str, str], dict]:
    tok = tok if tok is not None else token(base)
    host = urlsplit(base).netloc
    headers = {"Content-Type": ctype, "X-KB-Token": tok}
    if origin == "same":
        headers["Origin"] = f"http://{host}"
    elif origin:
        headers["Origin"] = origin
    if cookie == "same":
        headers["Cookie"] = f"kb_feedback={tok}"
    elif cookie:
        headers["Cookie"] = cookie
    if reader:
        headers["X-Remote-User"] = reader
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return send(base, "POST", "/api/feedback", body, headers)


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return list(con.execute("SELECT page, title, owner, helpful, comment, reader "
                                "FROM feedback ORDER BY id"))


def test_vote_is_stored_and_reported_per_owner(service: tuple[Served, Path]) -> None:
    served, db = service
    before = len(rows(db))
    status, _, data = vote(served.base, {"page": PAGE, "helpful": False,
                                         "comment": "第九条没有说明 MFA 设备丢失怎么办"},
                           reader="zhangsan")
    assert status == 201 and data["ok"] is True
    status, _, _ = vote(served.base, {"page": PAGE, "helpful": True})  # anonymous
    assert status == 201
    new = rows(db)[before:]
    assert new == [(PAGE, "网络管理制度", "信息中心", 0, "第九条没有说明 MFA 设备丢失怎么办",
                    "zhangsan"),
                   (PAGE, "网络管理制度", "信息中心", 1, "", None)]  # no identity without the header
    report = subprocess.run([sys.executable, "-m", "kb.cli", "report", "--feedback",
                             "--feedback-db", str(db)], capture_output=True, text=True,
                            env=build_env(), cwd=ROOT, check=True).stdout
    assert "  信息中心（" in report
    assert f"网络管理制度  {PAGE}  有帮助 1 · 没帮助 1" in report
    assert "没帮助：第九条没有说明 MFA 设备丢失怎么办" in report


@pytest.mark.parametrize("case", ["no origin", "foreign origin", "no cookie", "wrong token",
                                  "foreign referer"])
def test_cross_site_and_csrf_refused_nothing_stored(service: tuple[Served, Path], case: str) -> None:
    served, db = service
    before = len(rows(db))
    payload = {"page": PAGE, "helpful": True, "comment": case}
    if case == "no origin":
        status, _, data = vote(served.base, payload, origin=None)
        expected = "cross_origin"
    elif case == "foreign origin":
        status, _, data = vote(served.base, payload, origin="http://evil.example")
        expected = "cross_origin"
    elif case == "foreign referer":
        tok = token(served.base)
        status, _, data = send(served.base, "POST", "/api/feedback", json.dumps(payload).encode(),
                               {"Content-Type": "application/json", "X-KB-Token": tok,
                                "Cookie": f"kb_feedback={tok}",
                                "Referer": "http://evil.example/page"})
        expected = "cross_origin"
    elif case == "no cookie":
        status, _, data = vote(served.base, payload, cookie=None)
        expected = "csrf"
    else:
        status, _, data = vote(served.base, payload, cookie="kb_feedback=" + "0" * 32)
        expected = "csrf"
    assert (status, data["error"]) == (403, expected)
    assert len(rows(db)) == before


@pytest.mark.parametrize("payload,ctype,status,field", [
    (b"helpful=1", "application/x-www-form-urlencoded", 415, None),
    (b"{not json", "application/json", 400, None),
    (["a"], "application/json", 400, None),
    ({"page": PAGE, "helpful": "yes"}, "application/json", 400, "helpful"),
    ({"page": "/no/such/page/", "helpful": True}, "application/json", 400, "page"),
    ({"page": "https://evil.example/", "helpful": True}, "application/json", 400, "page"),
    ({"page": "/assets/images/logo.svg", "helpful": True}, "application/json", 400, "page"),
    ({"page": PAGE, "helpful": True, "comment": "长" * 1001}, "application/json", 400, "comment"),
    ({"page": PAGE, "helpful": True, "user": "x"}, "application/json", 400, "user"),
    ({"page": PAGE, "helpful": True, "comment": "x" * 20000}, "application/json", 413, None),
])
def test_bad_input_is_refused_with_4xx_nothing_stored(service: tuple[Served, Path], payload,
                                                       ctype: str, status: int, field) -> None:
    served, db = service
    before = len(rows(db))
    got, _, data = vote(served.base, payload, ctype=ctype, reader=f"bad-{status}-{field}")
    assert got == status, data
    if field:
        assert data["field"] == field and data["message"].startswith(field)
    assert len(rows(db)) == before


def test_rate_limited_per_reader(service: tuple[Served, Path]) -> None:
    served, db = service
    before = len(rows(db))
    codes = [vote(served.base, {"page": PAGE, "helpful": True}, reader="busy")[0] for _ in range(5)]
    assert codes == [201] * 5
    status, headers, data = vote(served.base, {"page": PAGE, "helpful": True}, reader="busy")
    assert (status, data["error"]) == (429, "rate_limited") and int(headers["retry-after"]) > 0
    assert vote(served.base, {"page": PAGE, "helpful": True}, reader="calm")[0] == 201
    assert len(rows(db)) == before + 6


@pytest.mark.browser
def test_widget_posts_from_the_page_and_stays_hidden_on_static_sites(
        service: tuple[Served, Path], browser, demo_site: Path, static_server) -> None:
    served, db = service
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(served.base + "manuals/oa/01-login/")
        page.wait_for_selector(".kb-feedback:not([hidden])")
        page.get_by_role("button", name="没帮助").click()
        assert page.get_by_role("button", name="没帮助").get_attribute("aria-pressed") == "true"
        page.fill("#kb-feedback-comment", "截图与系统不一致")
        page.get_by_role("button", name="提交反馈").click()
        page.wait_for_selector("text=谢谢您的反馈！")
        assert rows(db)[-1][:5] == ("/manuals/oa/01-login/", "第 1 章 登录与首页", "信息中心", 0,
                                    "截图与系统不一致")
        # the same built site on a plain static server: no service, no widget, nothing focusable
        page.goto(static_server(demo_site) + "manuals/oa/01-login/")
        page.wait_for_load_state("networkidle")
        assert page.locator(".kb-feedback").count() == 1
        assert not page.locator(".kb-feedback").is_visible()
        # pages kept out of search (the search page, archived versions) carry no widget
        page.goto(served.base + "search/")
        assert page.locator(".kb-feedback").count() == 0
    finally:
        page.close()
