"""The search service (`kb serve`, search/service.py): HTTP API, static files, security, reload,
search log, and the in-site search front-end in a real browser.

One copy of the demo site (the session's ``demo_site``) gets an extra page whose text contains
``<script>alert(1)</script>`` and a few symlinks pointing out of the site; it is re-indexed and
served by a real ``kb serve`` subprocess shared by all tests of this module. Tests that replace
the index run their own in-process waitress server on their own copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from conftest import ROOT, build_env, serious_axe_violations
from served import Served, api, health, request, serve_in_thread, wait_until

XSS_WORD = "注入演练"
XSS_PAGE = f"""
<h1 id="脚本注入演练">脚本注入演练<a class="headerlink" href="#脚本注入演练">&para;</a></h1>
<p>本页用于检查搜索摘要的转义。</p>
<h2 id="演练样例">演练样例<a class="headerlink" href="#演练样例">&para;</a></h2>
<p>{XSS_WORD}的示例文字：&lt;script&gt;alert(1)&lt;/script&gt; 只能作为文字显示，
还有 &lt;img src=x onerror=alert(2)&gt; 也一样。</p>
"""
SECRET = "top-secret-outside-the-site"


# --------------------------------------------------------------------------- fixtures


def add_probe_page(site: Path) -> None:
    """A Material page (the about page's frame) whose text contains HTML-looking strings."""
    html = (site / "about" / "index.html").read_text(encoding="utf-8")
    start = html.index(">", html.index("<article")) + 1
    end = html.index("</article>")
    page = html[:start] + XSS_PAGE + html[end:]
    page = re.sub(r"<title>[^<]*</title>", "<title>脚本注入演练 - 信息中心知识库</title>", page)
    (site / "xss-probe").mkdir()
    (site / "xss-probe" / "index.html").write_text(page, encoding="utf-8")


def reindex(site: Path) -> str:
    """Index ``site`` in a subprocess (as CI does); the new build id."""
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "index", str(site)], env=build_env(),
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((site / ".search-index" / "build.json").read_text())["build_id"]


@pytest.fixture(scope="module")
def site(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo site with the probe page, escape symlinks and its own index."""
    base = tmp_path_factory.mktemp("service")
    out = base / "site"
    shutil.copytree(demo_site, out, symlinks=True)
    add_probe_page(out)
    (base / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(base / "secret.txt", out / "leak.txt")
    os.symlink("/etc", out / "etc-link")
    os.symlink(base, out / "up-link")
    reindex(out)
    return out


@pytest.fixture(scope="module")
def served(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``kb serve SITE --port 0`` running for the module."""
    server = Served(site, tmp_path_factory.mktemp("searchlog") / "searches.jsonl")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def base(served: Served) -> str:
    return served.base


# --------------------------------------------------------------------------- API


def test_health_reports_build_id_and_document_count(base: str, site: Path) -> None:
    """/api/health gives the served index's build id and section count."""
    status, _, body = request(base, "/api/health")
    data = json.loads(body)
    build = json.loads((site / ".search-index" / "build.json").read_text())
    assert status == 200
    assert data["status"] == "ok"
    assert data["build_id"] == build["build_id"]
    assert data["documents"] == build["documents"] > 0
    assert "search" in data["apis"] and "ack" not in data["apis"]  # this server has no 阅知确认


def test_search_answers_with_hits_facets_and_timing(base: str) -> None:
    """A Chinese query returns the documented fields, hits carry the engine's fields."""
    status, data = api(base, q="口令", size=9)  # a size no other test asks: not cached
    assert status == 200
    assert data["query"] == "口令" and data["total"] >= 3 and data["size"] == 9
    assert isinstance(data["took_ms"], float) and data["took_ms"] > 0
    assert {"hits", "facets", "suggestion", "page", "size", "build_id"} <= set(data)
    assert set(data["facets"]) == {"type", "tag", "status"}
    hit = data["hits"][0]
    assert {"url", "title", "section", "type", "doc_id", "version", "score", "snippet"} <= set(hit)
    assert any(h["doc_id"] == "XXZX-ZD-007" for h in data["hits"])
    assert "<mark>" in "".join(h["snippet"] for h in data["hits"])


def test_type_filter_keeps_only_that_type(base: str) -> None:
    """type=policy leaves only policies; facets still count every type."""
    _, everything = api(base, q="VPN")
    status, data = api(base, q="VPN", type="policy")
    assert status == 200 and data["hits"]
    assert {h["type"] for h in data["hits"]} == {"policy"}
    assert data["total"] == everything["facets"]["type"]["policy"] < everything["total"]
    assert len(data["facets"]["type"]) > 1


def test_several_types_are_alternatives(base: str) -> None:
    """Repeating type= accepts any of the given types."""
    _, data = api(base, q="VPN", type=["policy", "manual"], size=50)
    assert {h["type"] for h in data["hits"]} == {"policy", "manual"}


def test_tag_filter(base: str) -> None:
    """tag=VPN keeps pages tagged VPN."""
    status, data = api(base, q="口令", tag="VPN")
    assert status == 200 and data["hits"]
    assert all("vpn" in [t.lower() for t in h["tags"]] for h in data["hits"])


def test_status_filter(base: str) -> None:
    """status=superseded keeps superseded documents only."""
    status, data = api(base, q="备份", status="superseded")
    assert status == 200 and data["hits"]
    assert {h["status"] for h in data["hits"]} == {"superseded"}


def test_archived_versions_only_when_asked(base: str) -> None:
    """Archived versions are left out by default and included with archived=1."""
    _, default = api(base, q="备份", size=50)
    _, archived = api(base, q="备份", size=50, archived="1")
    assert not any(h["archived"] for h in default["hits"])
    assert any(h["archived"] for h in archived["hits"])
    assert archived["total"] > default["total"]


def test_paging_and_size(base: str) -> None:
    """page/size slice the same ranking; a page past the end is empty, total unchanged."""
    _, whole = api(base, q="备份", size=6)
    _, first = api(base, q="备份", size=3, page=1)
    _, second = api(base, q="备份", size=3, page=2)
    _, beyond = api(base, q="备份", size=3, page=99)
    urls = [h["url"] for h in whole["hits"]]
    assert [h["url"] for h in first["hits"]] == urls[:3]
    assert [h["url"] for h in second["hits"]] == urls[3:6]
    assert beyond["hits"] == [] and beyond["total"] == whole["total"]
    assert second["page"] == 2 and second["size"] == 3


def test_suggestion_for_misspelled_word(base: str) -> None:
    """A misspelled English word gets a did-you-mean suggestion."""
    _, data = api(base, q="pasword")
    assert data["suggestion"] == "password"


def test_snippets_escape_page_text(base: str) -> None:
    """Page text <script>alert(1)</script> comes back escaped; only <mark> is markup."""
    _, data = api(base, q=XSS_WORD)
    hit = next(h for h in data["hits"] if h["url"].startswith("xss-probe/"))
    _, alert = api(base, q="alert")
    snippets = hit["snippet"] + "".join(h["snippet"] for h in alert["hits"])
    assert "&lt;script&gt;" in snippets
    assert re.sub(r"</?mark>", "", snippets).count("<") == 0


@pytest.mark.parametrize(("query", "code", "fragment"), [
    ("", "empty_query", "empty query"),
    ("q=", "empty_query", "empty query"),
    ("q=%20%20%09", "empty_query", "empty query"),
    ("q=" + "a" * 201, "too_long", "too long"),
    ("q=" + quote("密" * 201), "too_long", "too long"),
    ("q=vpn&size=0", "bad_request", "'size'"),
    ("q=vpn&size=51", "bad_request", "'size'"),
    ("q=vpn&size=ten", "bad_request", "'size'"),
    ("q=vpn&page=0", "bad_request", "'page'"),
    ("q=vpn&page=-1", "bad_request", "'page'"),
    ("q=vpn&page=101", "bad_request", "'page'"),
    ("q=vpn&type=virus", "bad_request", "'type'"),
    ("q=vpn&status=lost", "bad_request", "'status'"),
    ("q=vpn&archived=maybe", "bad_request", "'archived'"),
    ("q=vpn&tag=" + "x" * 51, "too_long", "'tag'"),
    ("q=vpn&sort=date", "bad_request", "unknown parameter"),
    ("q=vpn&q=dns", "bad_request", "more than once"),
    ("q=%00vpn", "bad_request", "control characters"),
    ("q=%ff%fe", "bad_request", "malformed"),
])
def test_bad_requests_are_json_400(base: str, query: str, code: str, fragment: str) -> None:
    """Bad parameter values answer 400 with a JSON message, never a traceback."""
    status, headers, body = request(base, "/api/search?" + query)
    data = json.loads(body)
    assert status == 400, data
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert data["error"] == code and fragment in data["message"]
    assert b"Traceback" not in body


def test_documented_filter_values_are_accepted(base: str) -> None:
    """Every ``type``/``status`` value SERVICE.md lists is accepted, also when no page of the
    site has it now (drafts are in preview builds only): the build records the content model's
    vocabulary in ``build.json``; a value outside it (``chapter``: chapters are type manual)
    is a 400 naming the accepted ones."""
    doc = (ROOT / "search" / "SERVICE.md").read_text(encoding="utf-8")
    for name in ("type", "status"):
        row = re.search(rf"^\| `{name}` +\|(.*)$", doc, re.M).group(1)
        values = re.findall(r"`([a-z]+)`", row)
        assert len(values) >= 5, row
        for value in values:
            status, data = api(base, q="vpn", **{name: value})
            assert status == 200, (name, value, data)
    status, data = api(base, q="vpn", status="draft")
    assert (status, data["total"]) == (200, 0), data
    status, data = api(base, q="vpn", type="chapter")
    assert status == 400 and "manual" in data["message"], data


#: numbers that are not ASCII digits, and other values ``int()`` or ``isdigit()`` would take
HOSTILE_NUMBERS = ["²", "³", "①", "１", "٣", "߁", "𝟙", "1.5", "+1", " 1", "1 ", "0x10", "1e2", "",
                   "1_0", "١٠", "9" * 7, "\u00b9"]


@pytest.mark.parametrize("name", ["page", "size"])
@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_numbers_are_ascii_digits_only(base: str, name: str, value: str) -> None:
    """page/size given as Unicode digits (², ①, １, ٣ …) or other non-numbers: JSON 400 naming
    the parameter, what was expected and what was found (these gave 500 before)."""
    status, headers, body = request(base, "/api/search?" + urlencode({"q": "vpn", name: value}))
    data = json.loads(body)
    assert (status, data["error"], data["parameter"]) == (400, "bad_request", name), data
    assert data["found"] == value[:40]
    assert data["expected"].startswith("a whole number from 1 to")
    assert f"parameter {name!r}: expected a whole number" in data["message"]
    assert headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(("name", "value"), [
    ("archived", "２"), ("archived", "maybe"), ("live", "①"), ("live", "tru"),
    ("type", "POLICY"), ("type", "polícy"), ("status", "effective\u200b"),
    ("tag", "vpn\x01"), ("tag", "x" * 51),
])
def test_other_parameters_are_strict(base: str, name: str, value: str) -> None:
    """Flags, vocabularies and tags: a wrong value is a JSON 400 naming the parameter."""
    status, _, body = request(base, "/api/search?" + urlencode({"q": "vpn", name: value}))
    data = json.loads(body)
    assert status == 400 and data["parameter"] == name and data["found"] == value[:40], data
    assert data["error"] == ("too_long" if len(value) > 50 else "bad_request")


def test_health_takes_no_parameters(base: str) -> None:
    """/api/health refuses any parameter with a JSON 400 naming it."""
    status, _, body = request(base, "/api/health?verbose=%C2%B2")
    data = json.loads(body)
    assert (status, data["error"], data["parameter"]) == (400, "bad_request", "verbose")
    assert "known: none" in data["message"]


@pytest.mark.parametrize(("q", "expect"), [
    ("密码" * 100, "same as 密码"),  # 200 characters: accepted, the word repeated
    ("\u202e密码\u202e", "same as 密码"),  # bidi overrides are not words
    ("！！！……###$$$%%%", "nothing"),
    ("a" * 200, "nothing"),
    ("<script>alert(1)</script>", "text"),
    ('"密码 有效期', "text"),
    ("密码\x85", 400),  # C1 control character
    ("密码" * 101, 400),
])
def test_hostile_queries_get_exact_answers(base: str, q: str, expect: object) -> None:
    """Hostile but valid queries answer 200 with exactly what they mean; invalid ones 400."""
    status, data = api(base, q=q)
    if expect == 400:
        assert status == 400 and data["parameter"] == "q", data
        return
    assert status == 200 and data["query"] == " ".join(q.split()), data
    if expect == "same as 密码":
        _, plain = api(base, q="密码")
        assert plain["total"] > 0
        assert [h["url"] for h in data["hits"]] == [h["url"] for h in plain["hits"]]
    elif expect == "nothing":
        assert (data["total"], data["hits"], data["facets"]["type"]) == (0, [], {})
    else:
        assert all("<script" not in h["snippet"] for h in data["hits"])


def test_overlong_query_string_is_refused(base: str) -> None:
    """A query string beyond 4 KB is refused with a JSON 414."""
    status, _, body = request(base, "/api/search?q=vpn&tag=" + "a" * 5000)
    assert status == 414 and json.loads(body)["error"] == "too_long"


def _raw(base: str, data: bytes) -> tuple[int, dict[str, str], dict]:
    """Send raw bytes; the status, headers and JSON body of the answer."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"GET /api/search?q=vpn&tag=" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431,
     "too_long"),
    (b"GET /api/search?q=vpn&tag=" + b"a" * 300_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431,
     "too_long"),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 40_000 + b"\r\n\r\n", 431,
     "too_long"),
    (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400,
     "bad_request"),
    (b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n", 413,
     "too_large"),
])
def test_requests_waitress_refuses_are_json(base: str, data: bytes, status: int,
                                            code: str) -> None:
    """What the HTTP server refuses before the application runs (header block over its limit,
    a broken request line, a body too large) is JSON with the security headers too."""
    got, headers, body = _raw(base, data)
    assert (got, body["error"]) == (status, code), body
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("default-src 'none'")


def test_unknown_api_path_is_json_404(base: str) -> None:
    """Unknown /api/ paths answer a JSON 404."""
    status, _, body = request(base, "/api/nothing")
    assert status == 404 and json.loads(body)["error"] == "not_found"


# --------------------------------------------------------------------------- HTTP behaviour


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", ["/api/search?q=vpn", "/about/"])
def test_only_get_and_head(base: str, method: str, path: str) -> None:
    """Other methods answer 405 with Allow: GET, HEAD."""
    status, headers, _ = request(base, path, method=method)
    assert status == 405 and headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/about/", "/api/search?q=vpn", "/api/health"])
def test_head_has_headers_without_body(base: str, path: str) -> None:
    """HEAD answers like GET without a body."""
    get_status, get_headers, get_body = request(base, path)
    status, headers, body = request(base, path, method="HEAD")
    assert status == get_status == 200 and body == b""
    assert headers["content-type"] == get_headers["content-type"]
    if path == "/about/":
        assert int(headers["content-length"]) == len(get_body)


@pytest.mark.parametrize("path", ["/about/", "/assets/stylesheets/kb-search.css",
                                  "/api/search?q=vpn", "/api/search?q=", "/no/such/page/"])
def test_security_headers_everywhere(base: str, path: str) -> None:
    """Every response carries nosniff, Referrer-Policy and a CSP with no remote host."""
    _, headers, _ = request(base, path)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    csp = headers["content-security-policy"]
    assert "default-src" in csp and "http" not in csp and "*" not in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp


def test_page_csp_lists_hashes_of_its_inline_scripts(base: str) -> None:
    """An HTML page's CSP allows exactly its inline scripts by hash."""
    import base64
    import hashlib

    _, headers, body = request(base, "/about/")
    scripts = re.findall(rb"<script>(.*?)</script>", body, re.S)
    assert scripts
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
        assert f"'sha256-{digest}'" in headers["content-security-policy"]


def test_directories_redirect_and_serve_index(base: str) -> None:
    """/about redirects to /about/ (query kept), which serves about/index.html."""
    status, headers, _ = request(base, "/about?x=1")
    assert status == 301 and headers["location"] == "/about/?x=1"
    status, headers, body = request(base, "/about/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert "关于本站".encode() in body


def test_missing_page_gets_the_site_404_page(base: str, site: Path) -> None:
    """Unknown paths answer 404 with the site's own 404.html."""
    status, _, body = request(base, "/no/such/page/")
    assert status == 404
    assert body == (site / "404.html").read_bytes()


def test_conditional_get(base: str) -> None:
    """A matching If-None-Match answers 304 without a body."""
    _, headers, _ = request(base, "/assets/stylesheets/kb-search.css")
    status, _, body = request(base, "/assets/stylesheets/kb-search.css",
                              headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


@pytest.mark.parametrize("path", [
    "/../../../../etc/passwd",
    "/about/../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/about/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/..%5c..%5c..%5cetc%5cpasswd",
    "/about\\..\\..\\etc\\passwd",
    "/about/%00/../index.html",
    "/about/index.html%00.css",
    "/.search-index/build.json",
    "/%2esearch-index/build.json",
    "/.search-index.old/build.json",
    "/about/./index.html",
    "/leak.txt",
    "/etc-link/passwd",
    "/up-link/secret.txt",
    "//etc/passwd",
])
def test_traversal_attempts_get_404(base: str, path: str) -> None:
    """Paths leaving the site, dot-paths and symlinks out of the site answer 404."""
    status, _, body = request(base, path)
    assert status == 404, path
    assert b"root:" not in body and SECRET.encode() not in body


# --------------------------------------------------------------------------- log and report


def test_search_log_and_report(base: str, served: Served) -> None:
    """Queries are logged without client data; kb report --searches lists the empty ones."""
    for _ in range(2):
        api(base, q="  Quokka   Teleport ")
    api(base, q="口令")
    for partial in ("qu", "quo", "quokka"):  # typing steps of one person
        request(base, "/api/search?" + urlencode({"q": partial, "live": "1"}))
    entries = [json.loads(line) for line in served.log.read_text(encoding="utf-8").splitlines()]
    mine = [e for e in entries if e["q"] == "quokka teleport"]
    assert len(mine) == 2 and mine[0]["n"] == 0
    assert set(mine[0]) <= {"time", "q", "n", "ms", "src", "filters"}
    assert "127.0.0.1" not in served.log.read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "report", "--searches", "--log",
                           str(served.log)], capture_output=True, text=True, env=build_env(),
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    row = next(line for line in lines if line.endswith("quokka teleport"))
    assert row.split()[:2] == ["2", "2"]
    assert not any(line.endswith((" 口令", " qu", " quo")) for line in lines)
    assert any(line.endswith(" quokka") for line in lines)


# --------------------------------------------------------------------------- reload, publish


def test_index_replaced_under_load(site: Path, tmp_path: Path) -> None:
    """While 12 clients search, a new index replaces the old: no failed request, new build."""
    from search.service import create_app

    copy = tmp_path / "site"
    shutil.copytree(site, copy, symlinks=True)
    old_id = json.loads((copy / ".search-index" / "build.json").read_text())["build_id"]
    app = create_app(copy, log_path=None)
    failures: list[str] = []
    answers: list[list[str]] = [[] for _ in range(12)]  # build ids each client was answered from
    stop = threading.Event()
    with serve_in_thread(app) as url:
        def client(n: int) -> None:
            words = ["口令", "VPN", "备份", "网络", "邮件", "打印机", "无线", "培训"]
            i = n
            while not stop.is_set():
                i += 1
                try:
                    status, data = api(url, q=words[i % len(words)])
                    if status != 200:
                        failures.append(f"{status} {data}")
                    else:
                        answers[n].append(data["build_id"])
                except Exception as exc:  # noqa: BLE001 - count, report below
                    failures.append(repr(exc))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: all(answers), 60, "every client answered once")
            page = copy / "new-probe" / "index.html"
            page.parent.mkdir()
            page.write_text((copy / "xss-probe" / "index.html").read_text(encoding="utf-8")
                            .replace(XSS_WORD, "热更新验证"), encoding="utf-8")
            new_id = reindex(copy)
            wait_until(lambda: all(a[-3:] == [new_id] * 3 for a in answers), 60,
                       "every client answered three times from the new build")
        finally:
            stop.set()
            for t in threads:
                t.join()
        build = health(url)["build_id"]
        _, found = api(url, q="热更新验证")
    assert old_id != new_id
    assert failures == []
    assert all(a[0] == old_id and a[-1] == new_id for a in answers)
    assert build == new_id
    assert any(h["url"].startswith("new-probe/") for h in found["hits"])


def test_publish_layout_follows_current_link(site: Path, tmp_path: Path) -> None:
    """SITE_DIR/current → release: switching the link switches pages and index, no restart."""
    from search.service import create_app

    releases = tmp_path / "releases"
    one, two = releases / "r1", releases / "r2"
    shutil.copytree(site, one, symlinks=True)
    shutil.copytree(site, two, symlinks=True)
    (two / "about" / "index.html").write_text(
        (two / "about" / "index.html").read_text(encoding="utf-8").replace("关于本站", "关于新版"),
        encoding="utf-8")
    two_id = reindex(two)
    os.symlink(one, tmp_path / "current")
    app = create_app(tmp_path, log_path=None, reload_interval=0.2)
    with serve_in_thread(app) as url:
        assert "关于本站".encode() in request(url, "/about/")[2]
        os.symlink(two, tmp_path / "current.new")
        os.replace(tmp_path / "current.new", tmp_path / "current")
        assert "关于新版".encode() in request(url, "/about/")[2]
        deadline = time.monotonic() + 20
        while json.loads(request(url, "/api/health")[2])["build_id"] != two_id:
            assert time.monotonic() < deadline, "index of the new release not served"
            time.sleep(0.2)
        # the served root is the release itself, not the publish folder around it
        assert request(url, "/releases/r1/about/")[0] == 404


# --------------------------------------------------------------------------- staff searches

def urls(data: dict) -> list[str]:
    return [h["url"] for h in data["hits"]]


@pytest.mark.parametrize(("q", "page", "within"), [
    ("忘记密码", "about/#获取账号", 1),  # the key of a one-way synonym keeps its own words
    ("忘记密码怎么办", "about/#获取账号", 1),
    ("忘了密码怎么办", "about/#获取账号", 1),  # spellings on one line share their words (忘记)
    ("密码忘了", "about/#获取账号", 1),
    ("重置密码", "about/#获取账号", 3),
    ("mima", "policies/accounts-passwords/", 3),  # pinyin without the input method
    ("密码", "policies/accounts-passwords/", 1),  # the policy (口令) before a manual's mention
    ("vpn shezhi", "manuals/vpn/", 1),  # pinyin of an everyday verb beside a topic word
    ("xxzx-zd-3", "policies/software/", 1),  # lower case, number without its zeros
    ("ZD-012", "policies/backup-recovery/", 1),  # the short code
])
def test_staff_queries_find_the_answer(base: str, q: str, page: str, within: int) -> None:
    """What staff type first finds the page that answers it (none of these found anything, or
    the right page, before)."""
    status, data = api(base, q=q, size=10)
    assert status == 200 and data["total"] > 0, data
    assert any(u.startswith(page) for u in urls(data)[:within]), urls(data)


@pytest.mark.parametrize(("q", "page"), [
    ("windows10", "announcements/2026/2026-11-03-windows10-retirement/"),  # letters+digits
    ("Windows10", "announcements/2026/2026-11-03-windows10-retirement/"),
    ("windows 10", "announcements/2026/2026-11-03-windows10-retirement/"),
    ("XXZX-SC-002", "manuals/vpn/"),  # the manual itself, not one of its chapters
    ("xxzx-sc-002-02", "manuals/vpn/02-windows/"),  # a chapter's PDF name
    ("PX-2026-01", "training/security-awareness/"),  # the course, not the training index
])
def test_codes_and_run_together_words_find_their_page(base: str, q: str, page: str) -> None:
    """A Latin word with letters and digits run together is also searched as its parts, and a
    document's code (a chapter's: with its number) brings up that page first."""
    _, data = api(base, q=q, size=10)
    assert data["total"] > 0 and data["hits"][0]["page"] == page, urls(data)
    assert not data["suggestion"], data["suggestion"]


@pytest.mark.parametrize(("q", "page"), [
    ("无线网络", "policies/network/"),
    ("802.1x", "policies/network/"),
    ("访客wifi", "policies/network/"),
    ("口令 长度", "policies/accounts-passwords/"),
    ("修订记录", None),  # the table is metadata: no page is found through it
])
def test_revision_record_is_never_the_section_shown(base: str, q: str, page: str | None) -> None:
    """The 修订记录 table is not indexed (like the control block): the section shown for a
    policy is the article that has the words, never its revision record."""
    _, data = api(base, q=q, size=20)
    shown = [s for h in data["hits"] for s in [h["section"]] + [x["section"] for x in h["sections"]]]
    assert "修订记录" not in shown, urls(data)
    assert all("#kb-revision-record" not in u for u in urls(data)), urls(data)
    if page:
        assert page in [h["page"] for h in data["hits"][:3]], urls(data)


def test_a_short_unknown_word_is_a_suggestion_only(base: str) -> None:
    """An unknown short Latin word one letter from a site word (vpm → vpn) is offered as
    "did you mean", not searched in its place; a synonyms-file word (WPS = 办公软件) is
    vocabulary, searched through its synonyms without a suggestion."""
    _, data = api(base, q="vpm")
    assert data["suggestion"] == "vpn" and data["total"] == 0, urls(data)
    _, data = api(base, q="wps")
    assert data["suggestion"] is None and data["total"] > 0
    assert all("ups" not in h["title"].lower() for h in data["hits"]), urls(data)


def test_words_of_the_site_never_find_nothing(base: str) -> None:
    """A query whose words occur in the site answers with pages; a synonym key (找回密码) or
    pinyin adds alternatives and never removes the user's words."""
    for q in ("找回密码", "忘记密码", "重置密码", "mima", "vpn shezhi", "备分"):
        status, data = api(base, q=q)
        assert status == 200 and data["total"] > 0, (q, data)


@pytest.mark.parametrize("q", ["备份", "备分", "数据备份", "备份制度"])
def test_effective_policy_before_the_one_it_replaced(base: str, q: str) -> None:
    """The effective 数据备份与恢复管理制度 (XXZX-ZD-012) ranks above the superseded
    数据备份管理办法 (XXZX-ZD-011), which is still found and marked 已被替代."""
    _, data = api(base, q=q, size=20)
    ids = [h["doc_id"] for h in data["hits"]]
    assert "XXZX-ZD-012" in ids, ids
    if "XXZX-ZD-011" in ids:
        assert ids.index("XXZX-ZD-012") < ids.index("XXZX-ZD-011")
        assert data["hits"][ids.index("XXZX-ZD-011")]["status"] == "superseded"


def test_expired_notices_are_marked_and_sink(base: str) -> None:
    """Notices past their expiry date carry status expired; for the same query a current
    notice of equal standing comes first (×0.7 for expired)."""
    _, data = api(base, q="通知", size=50)
    statuses = {h["status"] for h in data["hits"] if h["type"] == "announcement"}
    assert "expired" in statuses, statuses
    _, only = api(base, q="通知", status="expired", size=50)
    assert only["total"] > 0 and all(h["status"] == "expired" for h in only["hits"])


def test_partial_match_names_the_missing_words(base: str) -> None:
    """When no page has every word, the answer says which words the results have and which
    are missing; with every word on some page there is no such line."""
    _, data = api(base, q="口令 苹果")
    assert data["total"] > 0
    assert data["partial"] == {"words": ["口令", "苹果"], "missing": ["苹果"], "found": ["口令"]}
    _, full = api(base, q="口令 有效期")
    assert full["total"] > 0 and full["partial"] is None


def test_best_bet_shows_its_page_first(base: str) -> None:
    """extra.kb.best_bets in mkdocs.yml (联系方式: about.md) puts that page first for the
    query typed exactly (any case or width), like an exact title."""
    for q in ("联系方式", " 联系方式 "):
        _, data = api(base, q=q)
        assert data["hits"][0]["page"] == "about/" and data["hits"][0]["score"] >= 1000, data
    _, other = api(base, q="联系方式 邮箱")
    assert all(h["score"] < 1000 for h in other["hits"])


def test_best_bet_to_an_unknown_page_is_refused() -> None:
    """A best bet naming no page of the site stops the build, naming the entry and what was
    expected (checked against the build's pages in hooks/search_index.py)."""
    from mkdocs.exceptions import PluginError

    from kb.config import KBSettings
    from search.mkdocs.help import best_bets_by_page

    settings = KBSettings(best_bets={"联系方式": "about.md", "请假": "manuals/oa/04-leeve.md"})
    pages = {"about.md", "manuals/oa/04-leave.md"}
    with pytest.raises(PluginError) as err:
        best_bets_by_page(settings, pages)
    assert "extra.kb.best_bets.请假" in str(err.value) and "'manuals/oa/04-leeve.md'" in str(err.value)
    ok = KBSettings(best_bets={"联系方式": "about.md", "请假": "manuals/oa/04-leave.md"})
    assert best_bets_by_page(ok, pages) == {"about.md": ["联系方式"],
                                            "manuals/oa/04-leave.md": ["请假"]}


# --------------------------------------------------------------------------- browser

CSP_LISTENER = """
window.__kbViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__kbViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def page(browser):
    """A fresh page recording console errors, page errors, dialogs and CSP violations."""
    context = browser.new_context()
    pg = context.new_page()
    pg.add_init_script(CSP_LISTENER)
    pg.kb_errors = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.kb_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.kb_errors.append(str(e)))
    pg.on("dialog", lambda d: (pg.kb_errors.append("dialog " + d.message), d.dismiss()))
    yield pg
    context.close()


def poll(check, timeout: float = 10.0):
    """Call ``check`` until it returns something true (its value) or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def open_with_api(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector("html[data-kb-search]", state="attached")
    assert pg.get_attribute("html", "data-kb-search") == "up"


def type_query(pg, text: str) -> None:
    pg.click("[data-md-component=search-query]")
    pg.keyboard.type(text, delay=30)
    pg.wait_for_selector(".kb-search-option")


@pytest.mark.browser
def test_pages_ask_only_the_apis_this_server_has(page, base: str) -> None:
    """Outside report item 17: kb serve without 阅知确认 — a required policy's page asks
    api/health once, then only APIs the health answer lists (not api/ack): no 404 logged."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split("/api/")[1].split("?")[0])
            if "/api/" in r.url else None)
    page.goto(base + "policies/information-security/", wait_until="networkidle")
    _, _, body = request(base, "/api/health")
    offered = json.loads(body)["apis"]
    assert asked[0] == "health" and asked.count("health") == 1, asked
    assert "ack" not in offered and set(asked) <= set(offered), (asked, offered)
    assert page.locator("form[data-kb-ack]").is_hidden() and page.kb_errors == []


@pytest.mark.browser
def test_header_search_shows_results_as_you_type(page, base: str) -> None:
    """Typing 口令 in the header lists results with title, section, badge, doc_id, version."""
    open_with_api(page, base + "about/")
    type_query(page, "口令")
    options = page.locator(".kb-search-option")
    assert options.count() >= 3
    text = page.inner_text("#kb-search-listbox")
    assert "账号与口令管理制度" in text and "XXZX-ZD-007" in text and "v2.0" in text
    assert "制度" in page.locator(".kb-search-option .kb-badge").all_inner_texts()
    assert page.locator(".kb-search-option mark").count() > 0
    assert page.get_attribute("[data-md-component=search-query]", "aria-expanded") == "true"
    assert "找到" in page.inner_text("#kb-search-status")
    assert page.evaluate("window.__kbViolations") == [] and page.kb_errors == []


@pytest.mark.browser
def test_click_lands_on_section_anchor(page, base: str) -> None:
    """Clicking a section result opens that page scrolled to the section's anchor."""
    open_with_api(page, base + "about/")
    type_query(page, "多因素认证")
    option = page.locator(".kb-search-option", has_text="第五章").first
    href = option.get_attribute("href")
    with page.expect_navigation():
        option.click()
    assert page.url == href and "#" in href
    anchor = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    assert anchor == "第五章-多因素认证"
    heading = page.locator(f"[id='{anchor}']")
    assert heading.count() == 1 and heading.is_visible()
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]


@pytest.mark.browser
def test_keyboard_navigation(page, base: str) -> None:
    """ArrowDown selects (aria-activedescendant), Esc closes, Enter opens the results page."""
    open_with_api(page, base + "about/")
    type_query(page, "VPN")
    box = "[data-md-component=search-query]"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = page.get_attribute(box, "aria-activedescendant")
    assert active == "kb-search-option-1"
    assert page.get_attribute(f"#{active}", "aria-selected") == "true"
    page.keyboard.press("ArrowUp")
    assert page.get_attribute(box, "aria-activedescendant") == "kb-search-option-0"
    page.keyboard.press("Escape")
    assert page.get_attribute(box, "aria-expanded") == "false"
    assert not page.is_checked("#__search")
    page.click(box)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base + "search/?q=VPN"
    page.wait_for_selector(".kb-result")


@pytest.mark.browser
def test_results_page_filters_by_type_and_shares_url(page, base: str) -> None:
    """The results page filters by type through the facets and keeps the state in the URL."""
    open_with_api(page, base + "search/?q=VPN")
    page.wait_for_selector(".kb-result")
    assert not page.is_checked("#__search")  # Material's own dialog stays closed
    site_name = page.evaluate("document.querySelector('.md-header__topic').textContent.trim()")
    assert page.title() == f"VPN - 搜索 - {site_name}"  # "搜索" once (outside report item 15)
    before = page.locator(".kb-result").count()
    page.check("input[data-facet=type][value=policy]")
    page.wait_for_url("**type=policy**")
    assert page.title() == f"VPN - 搜索 - {site_name}"
    types = poll(lambda: page.locator(".kb-result .kb-badge--policy").count() > 0
                 and page.locator(".kb-result .kb-badge").all_inner_texts())
    assert set(types) == {"制度"} and len(types) <= before
    shared = page.url
    page.goto(shared)
    page.wait_for_selector(".kb-result")
    assert page.is_checked("input[data-facet=type][value=policy]")
    assert set(page.locator(".kb-result .kb-badge").all_inner_texts()) == {"制度"}
    assert page.evaluate("window.__kbViolations") == [] and page.kb_errors == []


@pytest.mark.browser
def test_results_page_archived_switch_and_paging(page, base: str) -> None:
    """The archived switch adds archived versions; pagination moves to page 2."""
    # 网络管理制度: its archived v1.0, v1.1 and comparisons rank on the first page
    open_with_api(page, base + "search/?q=%E7%BD%91%E7%BB%9C%E7%AE%A1%E7%90%86%E5%88%B6%E5%BA%A6")
    page.wait_for_selector(".kb-result")
    assert page.locator(".kb-badge--archived").count() == 0
    page.check("#kb-results-archived")
    page.wait_for_url("**archived=1**")
    page.wait_for_selector(".kb-badge--archived")
    page.click(".kb-results-pager a[rel=next]")
    page.wait_for_url("**page=2**")
    page.wait_for_selector(".kb-results-pager a[aria-current=page]:has-text('2')")


@pytest.mark.browser
def test_xss_text_stays_text_in_the_browser(page, base: str) -> None:
    """A page text <script>alert(1)</script> shows as text in the results, nothing runs."""
    open_with_api(page, base + "about/")
    type_query(page, XSS_WORD)
    snippet = page.locator(".kb-search-option", has_text="脚本注入演练").first
    assert "<script>alert(1)</script>" in snippet.inner_text()
    assert page.locator("#kb-search-listbox script, #kb-search-listbox img").count() == 0
    page.wait_for_timeout(300)
    assert page.kb_errors == []


@pytest.mark.browser
def test_fallback_to_builtin_search_without_api(page, site: Path, static_server) -> None:
    """Without the API (plain static server), Material's search answers, with a notice."""
    url = static_server(site)
    page.goto(url + "about/")
    page.wait_for_selector("html[data-kb-search=down]", state="attached")
    page.click("[data-md-component=search-query]")
    page.keyboard.type("VPN", delay=30)
    page.wait_for_selector(".md-search-result__item")
    notice = page.locator(".kb-search-notice")
    assert notice.is_visible() and "不可用" in notice.inner_text()
    assert page.locator(".kb-search-option").count() == 0


@pytest.mark.browser
def test_fallback_when_api_stops_after_load(page, site: Path, tmp_path: Path) -> None:
    """When kb serve stops after the page loaded, typing falls back to Material's search."""
    server = Served(site, tmp_path / "searches.jsonl")
    try:
        open_with_api(page, server.base + "about/")
        page.wait_for_load_state("networkidle")  # Material's own index is loaded
    finally:
        server.stop()
    page.click("[data-md-component=search-query]")
    page.keyboard.type("VPN", delay=30)
    page.wait_for_selector(".md-search-result__item")
    assert page.locator(".kb-search-notice").is_visible()
    assert page.locator(".kb-search-option").count() == 0


@pytest.mark.browser
def test_no_console_errors_or_csp_violations(page, base: str) -> None:
    """Pages, header results and the results page load with no error and no CSP violation."""
    for path in ("about/", "policies/accounts-passwords/", "manuals/", "training/",
                 "search/?q=VPN"):
        open_with_api(page, base + path)
        page.wait_for_load_state("networkidle")
    type_query(page, "网络")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__kbViolations") == []
    assert page.kb_errors == []


@pytest.mark.browser
def test_axe_with_results_open(page, base: str) -> None:
    """axe-core: no serious or critical violation with the as-you-type results open."""
    page.emulate_media(reduced_motion="reduce")
    open_with_api(page, base + "about/")
    type_query(page, "口令")
    page.keyboard.press("ArrowDown")
    violations = serious_axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


@pytest.mark.browser
def test_axe_on_results_page(page, base: str) -> None:
    """axe-core: no serious or critical violation on the results page."""
    page.emulate_media(reduced_motion="reduce")  # judge colours after, not during, transitions
    open_with_api(page, base + "search/?q=VPN")
    page.wait_for_selector(".kb-result")
    page.wait_for_load_state("networkidle")
    violations = serious_axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


@pytest.mark.browser
def test_results_page_partial_line_and_empty_state(page, base: str) -> None:
    """The results page says which words were dropped; a search that finds nothing shows
    tips, the popular searches and the helpdesk from mkdocs.yml (extra.kb), never a bare 0,
    and a popular search runs when clicked."""
    open_with_api(page, base + "search/?q=" + quote("口令 苹果"))
    page.wait_for_selector(".kb-result")
    line = page.inner_text(".kb-results-partial")
    assert line == "未找到同时包含“口令”“苹果”的结果，以下结果包含“口令”。"
    assert page.locator(".kb-results-empty").is_hidden()
    page.fill("#kb-results-q", "量子纠缠")
    page.click(".kb-results-form button[type=submit]")
    page.wait_for_selector(".kb-results-empty:not([hidden])")
    assert "没有找到与“量子纠缠”相关的页面" in page.inner_text(".kb-results-status")
    empty = page.inner_text(".kb-results-empty")
    assert "换一个说法" in empty and "电话 8000" in empty
    popular = page.locator(".kb-results-empty .kb-search-popular a")
    assert "VPN 安装" in popular.all_inner_texts()
    popular.filter(has_text="VPN 安装").click()
    page.wait_for_url("**q=VPN**")
    page.wait_for_selector(".kb-result")
    assert page.input_value("#kb-results-q") == "VPN 安装"
    assert page.locator(".kb-results-empty").is_hidden()
    assert page.evaluate("window.__kbViolations") == [] and page.kb_errors == []


@pytest.mark.browser
def test_results_page_on_a_phone(browser, base: str) -> None:
    """At 390×844 the filters fold behind one button and the first result is on the first
    screen; the button opens them. On a desktop the filters show without a button."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    try:
        open_with_api(pg, base + "search/?q=" + quote("VPN"))
        pg.wait_for_selector(".kb-result")
        assert pg.locator(".kb-facet").first.is_hidden()
        first = pg.locator(".kb-result").first.bounding_box()
        assert first is not None and first["y"] + 60 < 844, first
        button = pg.locator(".kb-results-filter-toggle")
        assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        assert pg.locator("input[data-facet=tag]").first.is_visible()
    finally:
        context.close()
    wide = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = wide.new_page()
    try:
        open_with_api(pg, base + "search/?q=" + quote("VPN"))
        pg.wait_for_selector(".kb-result")
        assert pg.locator(".kb-results-filter-toggle").is_hidden()
        assert pg.locator("input[data-facet=tag]").first.is_visible()
    finally:
        wide.close()
