"""The deployment recipe: real nginx with the shipped site config in front of ``kb serve``;
two publishes and a rollback seen through nginx; systemd units verified by systemd-analyze."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, build_env
from kb.publish import release as pub
from served import Served
from writer_project import make_project

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = ROOT / "deploy"
SITE_CONF = DEPLOY / "nginx" / "kb-internal.conf"
SHIPPED_ROOT = "/srv/kb/internal"
SHIPPED_UPSTREAM = "127.0.0.1:8001"
#: a page whose heading reads like an image with an error handler (issue 16, item 3)
HEADING_PROBE = "# 标题探针\n\n## 标题 &lt;img src=x onerror=alert(8)&gt; 检索\n\n探针正文。\n"
#: the headers kb serve and nginx must agree on
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy",
                    "x-frame-options", "cross-origin-opener-policy")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def nginx_config(work: Path, target: Path, port: int, upstream_port: int) -> Path:
    """The shipped site config with its marked values set, inside a minimal main config that
    keeps pid, logs and temp files in ``work``."""
    site = SITE_CONF.read_text(encoding="utf-8")
    for old in ("listen 80;", SHIPPED_ROOT, SHIPPED_UPSTREAM):
        assert old in site, f"shipped nginx config lost {old!r}"
    site = (site.replace("listen 80;", f"listen 127.0.0.1:{port};")
            .replace(SHIPPED_ROOT, str(target))
            .replace(SHIPPED_UPSTREAM, f"127.0.0.1:{upstream_port}"))
    (work / "kb-site.conf").write_text(site, encoding="utf-8")
    (work / "snippets").mkdir(exist_ok=True)  # the site's `include snippets/…` (limits)
    shutil.copy(DEPLOY / "nginx" / "kb-limits-server.conf", work / "snippets")
    shutil.copy(DEPLOY / "nginx" / "kb-limits.conf", work)
    main = f"""
daemon off;
worker_processes 1;
user root;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {work}/access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/kb-limits.conf;
    include {work}/kb-site.conf;
}}
"""
    (work / "nginx.conf").write_text(main, encoding="utf-8")
    return work / "nginx.conf"


def _nginx(conf: Path, *args: str) -> list[str]:
    return [NGINX, "-p", str(conf.parent), "-e", str(conf.parent / "error.log"), "-c", str(conf),
            *args]


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two releases (A: 第一版, B: 第二版 current), kb serve on the target, nginx in front."""
    base = tmp_path_factory.mktemp("deploy")
    project = make_project(base / "kb")
    target = base / "srv" / "internal"
    env = {"KB_TODAY": build_env()["KB_TODAY"]}
    # issue 16: a heading that reads like HTML (the theme's search box shows titles as HTML)
    (project / "docs" / "heading-probe.md").write_text(HEADING_PROBE, encoding="utf-8")
    about = project / "docs" / "about.md"
    original = about.read_text(encoding="utf-8")
    names = []
    for label in ("第一版", "第二版"):
        about.write_text(original + f"\n发布标记{label}。\n", encoding="utf-8")
        names.append(pub.publish(project / "mkdocs.yml", target, env=env).name)
    # kb serve picks its own port and says which (no race for a port chosen in advance); its
    # output is in the failure message when it does not start
    serve = Served(target, "off")
    api_port = urlsplit(serve.base).port
    web_port = _free_port()
    work = base / "nginx"
    work.mkdir()
    conf = nginx_config(work, target, web_port, api_port)
    nginx = subprocess.Popen(_nginx(conf), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        _wait_http(f"http://127.0.0.1:{api_port}/api/health")
        _wait_http(f"http://127.0.0.1:{web_port}/")
        yield {"target": target, "names": names, "url": f"http://127.0.0.1:{web_port}",
               "work": work, "api": f"http://127.0.0.1:{api_port}"}
    finally:
        nginx.terminate()
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
        serve.stop()


def test_shipped_nginx_config_is_valid(tmp_path: Path) -> None:
    """nginx -t accepts the shipped site config (with the headers file a build writes)."""
    from kb.publish.headers import write as write_headers

    write_headers(tmp_path / "srv" / "current", ["'sha256-AAAA'"])
    conf = nginx_config(tmp_path, tmp_path / "srv", _free_port(), _free_port())
    proc = subprocess.run(_nginx(conf, "-t"), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "syntax is ok" in proc.stderr


def _health(url: str) -> dict:
    status, _, body = _get(f"{url}/api/health")
    assert status == 200
    return json.loads(body)


def _wait_build_id(url: str, build_id: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        health = _health(url)
        if build_id in json.dumps(health) or time.monotonic() > deadline:
            return health
        time.sleep(0.2)


def test_nginx_serves_current_release_and_rollback(deployment: dict) -> None:
    """Pages and /api/search answer from the current release; after rollback from the previous."""
    url, target = deployment["url"], deployment["target"]
    first, second = deployment["names"]
    status, _, body = _get(f"{url}/about/")
    assert status == 200 and "发布标记第二版" in body.decode()
    build_b = pub.release_info(target, second)["index_build_id"]
    assert build_b in json.dumps(_wait_build_id(url, build_b))
    status, headers, body = _get(f"{url}/api/search?q=" + urllib.request.quote("第二版"))
    assert status == 200 and "application/json" in headers["content-type"]
    result = json.loads(body)
    assert result["total"] >= 1 and any("about" in h["url"] for h in result["hits"])
    assert headers["cache-control"] == "no-store"

    proc = subprocess.run([sys.executable, "-m", "kb.cli", "rollback", "--target", str(target)],
                          capture_output=True, text=True, env=build_env())
    assert proc.returncode == 0, proc.stderr
    status, _, body = _get(f"{url}/about/")
    assert status == 200 and "发布标记第一版" in body.decode()  # nginx follows the symlink at once
    build_a = pub.release_info(target, first)["index_build_id"]
    assert build_a in json.dumps(_wait_build_id(url, build_a))
    result = json.loads(_get(f"{url}/api/search?q=" + urllib.request.quote("第一版"))[2])
    assert result["total"] >= 1
    pub.rollback(target, to=second)  # leave B current for the other tests
    assert build_b in json.dumps(_wait_build_id(url, build_b))


def test_caching_headers(deployment: dict) -> None:
    """HTML gets a short cache, hashed Material bundles a year, other assets a day."""
    url, target = deployment["url"], deployment["target"]
    _, headers, _ = _get(f"{url}/")
    assert headers["cache-control"] == "public, max-age=60, must-revalidate"
    assert headers["x-content-type-options"] == "nosniff"
    bundle = next((target / "current" / "assets" / "javascripts").glob("bundle.*.min.js"))
    status, headers, _ = _get(f"{url}/assets/javascripts/{bundle.name}")
    assert status == 200 and "immutable" in headers["cache-control"]
    assert "max-age=31536000" in headers["cache-control"]
    status, headers, _ = _get(f"{url}/policies/images/topology.png")
    assert status == 200 and headers["cache-control"] == "public, max-age=86400"


def test_dot_folders_are_not_served(deployment: dict) -> None:
    """The search index, release marker and other dot paths answer 404 through nginx."""
    url = deployment["url"]
    for path in ("/.search-index/build.json", "/.kb-release.json", "/.search-index/",
                 "/policies/.hidden"):
        status, _, body = _get(url + path)
        assert status == 404, path
        assert b"build_id" not in body
    status, _, body = _get(f"{url}/no-such-page/")
    assert status == 404 and "信息中心知识库" in body.decode()  # the site's own 404 page


def test_nginx_sends_the_security_headers_of_kb_serve(deployment: dict) -> None:
    """Pages, assets and the 404 page through nginx carry the headers kb serve sends for them,
    from the release's build (CSP with the theme's script hashes, nosniff, Referrer-Policy)."""
    target = deployment["target"]
    bundle = next((target / "current" / "assets" / "javascripts").glob("bundle.*.min.js"))
    policy = json.loads((target / "current" / ".kb-headers" / "headers.json").read_text(
        "utf-8"))["content_security_policy"]
    for path in ("/", "/about/", "/heading-probe/", "/assets/stylesheets/kb.css",
                 f"/assets/javascripts/{bundle.name}", "/policies/images/topology.png",
                 "/search/search_index.json", "/no-such-page/", "/.kb-headers/nginx.conf"):
        status, via_nginx, _ = _get(deployment["url"] + path)
        direct_status, direct, _ = _get(deployment["api"] + path)
        assert status == direct_status, path
        for name in SECURITY_HEADERS:
            assert via_nginx.get(name) == direct.get(name) is not None, (path, name)
        assert via_nginx["content-security-policy"] == policy, path


@pytest.mark.browser
def test_heading_like_html_is_text_in_the_theme_search_through_nginx(deployment: dict,
                                                                      browser) -> None:
    """A heading reading ``<img src=x onerror=alert(8)>``: Material's search box opened by
    ``?q=`` on the nginx site shows it as text and nothing runs."""
    index = json.loads((deployment["target"] / "current" / "search" / "search_index.json")
                       .read_text("utf-8"))
    titles = [d["title"] for d in index["docs"] if "onerror" in d["title"]]
    assert titles and all("<img" not in t and "&lt;img" in t for t in titles)
    page = browser.new_page()
    try:
        fired: list[str] = []
        page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
        page.goto(deployment["url"] + "/?q=" + urllib.request.quote("检索"))
        # rendered even while our as-you-type list covers it (the API answers here)
        page.locator(".md-search-result__item").first.wait_for(state="attached", timeout=15000)
        page.wait_for_timeout(500)
        shown = page.locator(".md-search-result__item").all_text_contents()
        assert any("<img src=x onerror=alert(8)>" in t for t in shown), shown
        assert page.locator(".md-search-result img").count() == 0
        assert fired == []
    finally:
        page.close()


def test_api_only_get(deployment: dict) -> None:
    """nginx refuses methods other than GET/HEAD on /api/."""
    req = urllib.request.Request(f"{deployment['url']}/api/search?q=x", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 403


@pytest.mark.browser
def test_browser_search_through_nginx(deployment: dict, browser) -> None:
    """Typing in the header search box shows results from /api/search served through nginx."""
    page = browser.new_page()
    try:
        api_calls: list[str] = []
        page.on("request", lambda r: api_calls.append(r.url) if "/api/search" in r.url else None)
        page.goto(deployment["url"] + "/")
        box = page.locator("input.md-search__input")
        box.click()
        box.press_sequentially("网络接入", delay=30)
        option = page.locator(".kb-search-option").first
        option.wait_for(timeout=15000)
        titles = page.locator(".kb-search-title").all_inner_texts()
        assert any("网络接入管理制度" in t for t in titles), titles
        assert api_calls and all(c.startswith(deployment["url"]) for c in api_calls)
    finally:
        page.close()


def test_systemd_units_verify(tmp_path: Path) -> None:
    """systemd-analyze verify accepts the shipped units (paths pointed at this machine)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    kb_bin = Path(sys.executable).with_name("kb")
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*@.*")):
        text = unit.read_text(encoding="utf-8").replace("/opt/kb/.venv/bin/kb", str(kb_bin))
        if unit.suffix == ".service":
            assert re.search(r"(?m)^ExecStart=", text), unit.name
        # an instance of the template, as systemctl would load it
        instance = tmp_path / unit.name.replace("@.", "@internal.")
        instance.write_text(text, encoding="utf-8")
        units.append(str(instance))
    assert len(units) >= 3
    proc = subprocess.run([analyze, "verify", *units], capture_output=True, text=True)
    problems = [line for line in proc.stderr.splitlines() if "kb-" in line]
    assert proc.returncode == 0 and not problems, proc.stderr
    search = (DEPLOY / "systemd" / "kb-search@.service").read_text(encoding="utf-8")
    assert "kb serve /srv/kb/%i " in search  # the target folder: follows its current symlink
