"""Issue 16 item 2: nothing a writer types runs in a reader's browser.

The hostile project (:mod:`hostile_project`: script in the body, raw HTML, attr_list, headings,
admonition titles, title/tags/owner/history front matter, a notice and a course) is built once,
strictly, and served by ``kb serve``; chromium opens every kind of page (header, navigation,
tags page, register, notice lists, courses, Material's search box with ``?q=``, our results page)
and records every ``alert(N)`` that fires. Then a script written into a built page after the
build (a sanitiser bypass, a tampered file) must still be blocked: the policy is the build's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import build_env
from hostile_project import AMP_TITLE, PAYLOADS, make_project
from test_service import CSP_LISTENER, Served, request

#: pages of every kind (``?q=`` opens Material's search box with that query)
PAGES = ("", "policies/danger/", "policies/", "tags/", "h1-only/", "title-page/",
         "announcements/", "announcements/2026/2026-11-20-outage/", "training/",
         "training/security/", "features/", "?q=标题", "?q=恶意", "search/?q=标题",
         "search/?q=危险")
#: what the sanitiser must never let through, as CSS selectors inside the page content
FORBIDDEN = ("script", "style", "iframe", "object", "embed", "form[action]", "base", "meta", "link",
             "a[href^='javascript' i]", "[autofocus]")


def strict_build(project: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` without ``-q`` (with ``-q`` MkDocs 1.6 does not count warnings)."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(project / "mkdocs.yml"), "-d", str(out)], capture_output=True,
                          text=True, env=build_env(), cwd=project)


#: warnings of the hostile build: every removal is named with its file and line
HOSTILE_WARNINGS: list[str] = []


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile project built (not strictly: the writer is warned about each removal, which a
    strict build turns into a failure); the only warnings are those removals."""
    base = tmp_path_factory.mktemp("hostile")
    project = make_project(base / "kb")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f",
                           str(project / "mkdocs.yml"), "-d", str(base / "site")],
                          capture_output=True, text=True, env=build_env(), cwd=project)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING")]
    assert all("unsafe markup taken out of the page:" in w for w in warnings), warnings
    HOSTILE_WARNINGS[:] = warnings
    return base / "site"


def test_writer_is_told_what_the_sanitiser_removed(hostile_site: Path) -> None:
    """Script, frames, handlers, javascript: links and overlays are each named with the file
    and the line where they were written (kb check and a strict build fail on them)."""
    text = "\n".join(HOSTILE_WARNINGS)
    source = (hostile_site.parent / "kb" / "policies").glob("*.md")
    policy = next(p for p in source if "<script>alert(1)</script>" in p.read_text("utf-8"))
    lines = policy.read_text("utf-8").splitlines()
    rel = f"policies/{policy.name}"
    for what, written in (("<script> element", "<script>alert(1)"),
                          ("event handler onerror= on <img>", 'onerror="alert(2)"'),
                          ("javascript: URL in href= of <a>", "javascript:"),
                          ("<iframe> element", "<iframe")):
        line = next(n for n, t in enumerate(lines, 1) if written in t)
        assert f"{rel}:{line}: unsafe markup taken out of the page: {what}" in text, text


@pytest.fixture(scope="module")
def served(hostile_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(hostile_site, tmp_path_factory.mktemp("log") / "searches.jsonl")
    yield server
    server.stop()


def _visit(browser, url: str) -> tuple[list[str], list[str], dict]:
    """Dialogs fired and CSP violations seen on ``url``, and what its content holds."""
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(CSP_LISTENER)
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    try:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        found = page.evaluate("""forbidden => {
            const out = {};
            for (const sel of forbidden)
              out[sel] = document.querySelectorAll('.md-content ' + sel).length;
            out.handlers = [...document.querySelectorAll('*')].filter(
              el => [...el.attributes].some(a => a.name.startsWith('on'))).length;
            const overlay = document.getElementById('kb-overlay');  // a full-page fake login
            out.overlay = overlay && getComputedStyle(overlay).position === 'fixed' ? 1 : 0;
            out.hidden_body = getComputedStyle(document.body).display === 'none' ? 1 : 0;
            return out; }""", list(FORBIDDEN))
        return fired, page.evaluate("window.__kbViolations"), found
    finally:
        context.close()


@pytest.mark.browser
def test_hostile_content_runs_nowhere(browser, served: Served) -> None:
    """None of the 29 planted payloads runs on any page, search box or results page."""
    fired_anywhere: dict[str, list[str]] = {}
    for path in PAGES:
        fired, _, found = _visit(browser, served.base + path)
        if fired:
            fired_anywhere[path] = [f"{n}: {PAYLOADS.get(int(n), '?')}" for n in fired]
        assert {k: v for k, v in found.items() if v} == {}, (path, found)
    assert fired_anywhere == {}
    # the header search box (our API) lists the hostile page as text
    context = browser.new_context()
    page = context.new_page()
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    try:
        page.goto(served.base + "about/")
        page.wait_for_selector("html[data-kb-search=up]", state="attached")
        page.click("[data-md-component=search-query]")
        page.keyboard.type("检索", delay=30)
        page.wait_for_selector(".kb-search-option")
        options = page.locator(".kb-search-option").all_inner_texts()
        assert any("<img src=x onerror=alert(8)>" in t for t in options), options  # the heading
        assert fired == []
    finally:
        context.close()


@pytest.mark.browser
def test_script_written_into_a_built_page_is_blocked(browser, served: Served,
                                                     hostile_site: Path) -> None:
    """A script and a handler put into a page after the build (a tampered file, a sanitiser
    bypass) do not run: the policy lists the theme's scripts, not what a page contains."""
    html = (hostile_site / "about" / "index.html").read_text(encoding="utf-8")
    html = html.replace("</article>", "<script>alert(101)</script>"
                        '<img src="x" onerror="alert(102)"></article>', 1)
    (hostile_site / "tampered").mkdir(exist_ok=True)
    (hostile_site / "tampered" / "index.html").write_text(html, encoding="utf-8")
    fired, violations, _ = _visit(browser, served.base + "tampered/")
    assert fired == []
    assert any(v.startswith("script-src") for v in violations), violations
    assert page_inline_scripts_run(browser, served.base + "tampered/")


def page_inline_scripts_run(browser, url: str) -> bool:
    """The theme's own inline scripts still run (Material set its storage helpers)."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(url)
        return page.evaluate("typeof __md_get === 'function' && typeof __md_scope === 'object'")
    finally:
        context.close()


def test_policy_is_the_builds_not_the_pages(served: Served, hostile_site: Path) -> None:
    """Every file is sent the one policy the build wrote: theme scripts only, no handlers."""
    written = json.loads((hostile_site / ".kb-headers" / "headers.json").read_text("utf-8"))
    policy = written["content_security_policy"]
    assert "'unsafe-hashes'" not in policy and "'unsafe-inline'" not in policy
    for path in ("/", "/policies/danger/", "/title-page/", "/no/such/page/",
                 "/assets/stylesheets/kb.css", "/search/search_index.json"):
        _, headers, body = request(served.base, path)
        assert headers["content-security-policy"] == policy, path
        if path.endswith("/"):  # every inline script of a page is one the theme printed
            scripts = re.findall(rb"<script>(.*?)</script>", body, re.S)
            assert scripts and all(written_hash(s) in policy for s in scripts), path
    assert len(written["script_hashes"]) == 4  # Material's head, palette and two content scripts
    status, _, _ = request(served.base, "/.kb-headers/headers.json")
    assert status == 404


def written_hash(script: bytes) -> str:
    from search.csp import script_hash

    return script_hash(script)


def test_titles_and_tags_are_text_everywhere(hostile_site: Path) -> None:
    """Front-matter text reaches every output escaped: head title, header, nav, tags page,
    register, notice list, feeds, the theme's search index."""
    raw_title = "危险制度 <img src=x onerror=alert(9)>"
    danger = lxml_html.parse(str(hostile_site / "policies/danger/index.html")).getroot()
    assert danger.findtext(".//title") == f"{raw_title} - 信息中心知识库"
    assert raw_title in danger.xpath("string(//*[@class='md-header__topic'][2])")
    assert not danger.xpath("//*[@onerror] | //img[@src='x'][not(ancestor::article)]")
    about = lxml_html.parse(str(hostile_site / "title-page/index.html")).getroot()
    assert about.findtext(".//title").startswith("关于 </title><script>alert(18)</script> 本站")
    for rel in ("tags/index.html", "policies/index.html", "announcements/index.html",
                "training/index.html", "index.html"):
        tree = lxml_html.parse(str(hostile_site / rel)).getroot()
        assert not tree.xpath("//article//img[@onerror] | //article//*[@onerror]"), rel
        assert "onerror=alert(" in tree.xpath("string(//article)"), rel  # shown as text
    feed = (hostile_site / "announcements/feed.xml").read_text(encoding="utf-8")
    assert "<img" not in feed and "停机通知 &lt;img src=x onerror=alert(12)&gt;" in feed
    index = json.loads((hostile_site / "search/search_index.json").read_text(encoding="utf-8"))
    text = json.dumps(index["docs"], ensure_ascii=False)
    assert "<img" not in text and "onerror=alert(8)" in text  # the heading, as escaped text
    assert any("&lt;img src=x onerror=alert(10)&gt;" in t for d in index["docs"]
               for t in d.get("tags", []))


def test_titles_are_escaped_exactly_once(hostile_site: Path) -> None:
    """Outside report item 2: a title with & < > " ' reads as itself on the home page's
    最近更新 list and in the search index (escaped once, never ``&amp;lt;`` as text)."""
    home = lxml_html.parse(str(hostile_site / "index.html")).getroot()
    recent = [a.text_content() for a in home.cssselect(".kb-recently-updated a")]
    assert AMP_TITLE in recent, recent
    assert "关于 </title><script>alert(18)</script> 本站 <img src=x onerror=alert(26)>" in recent
    assert not [t for t in recent if "&amp;" in t or "&lt;" in t], recent
    assert not home.xpath("//article//script | //article//*[@onerror]")
    index = json.loads((hostile_site / "search/search_index.json").read_text(encoding="utf-8"))
    text = json.dumps(index["docs"], ensure_ascii=False)
    assert "&amp;amp;" not in text and "&amp;lt;" not in text and "&amp;quot;" not in text
    recent_text = "".join(d["text"] for d in index["docs"] if d["location"].startswith("#"))
    assert "A&amp;B &lt;x&gt;" in recent_text  # the home's list: HTML text, as the index holds it
    page = next(d for d in index["docs"] if d["location"] == "zz-symbols/")
    assert page["title"].startswith("A&amp;B &lt;x&gt;"), page["title"]


def test_markdown_features_survive_the_sanitiser(hostile_site: Path) -> None:
    """Admonitions, tabs, task lists, emoji SVG, footnotes, permalinks, code, tables, figures."""
    tree = lxml_html.parse(str(hostile_site / "features/index.html")).getroot()
    article = tree.xpath("//article")[0]
    checks = {
        "admonition": ".//div[contains(@class,'admonition') and contains(@class,'warning')]",
        "details": ".//details[contains(@class,'info')]/summary",
        "tabs": ".//div[contains(@class,'tabbed-set')]/input[@type='radio'][@id]",
        "tab labels": ".//div[@class='tabbed-labels']/label[@for]",
        "task list": ".//li[@class='task-list-item']//input[@type='checkbox'][@disabled]",
        "emoji": ".//span[@class='twemoji']/svg[@viewbox]/path[@d]",  # lxml: lower case
        "footnote": ".//sup[@id]/a[@class='footnote-ref'][@href='#fn:1']",
        "permalink": ".//h2[@id='tables']/a[@class='headerlink'][@href='#tables']",
        "attr_list class": ".//h2[contains(@class,'kb-demo')]",
        "code lines": ".//div[contains(@class,'highlight')]//a[starts-with(@href,'#__codelineno')]",
        "table": ".//table/thead/tr/th",
        "kbd": ".//span[@class='keys']/kbd",
        "mark": ".//mark",
        "abbr": ".//abbr[@title]",
        "figure": ".//figure//img[@src][@width='40']",
        "mailto": ".//a[@href='mailto:it@example.org']",
        "external": ".//a[@href='https://example.org/'][@title='外部']",
        "internal": ".//a[@href='../about/#联系方式']",
    }
    missing = [name for name, xpath in checks.items() if not article.xpath(xpath)]
    assert missing == []


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>', '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>', "<math><mi>x</mi></math>",
    "<details open ontoggle=alert(1)>", '<div style="background:url(javascript:alert(1))">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
    '<p id="__config">{"search": "x.js"}</p>', '<input type="text" value="x" autofocus>',
])
def test_sanitiser_removes_what_runs(hostile: str) -> None:
    """Known XSS forms come out inert: no script, handler, javascript:/data: URL, theme id."""
    from kb.content.sanitize import clean_html

    out = clean_html(hostile).lower()
    for bad in ("<script", "onerror", "onload", "ontoggle", "javascript:", "data:", "<iframe",
                "<math", "<form", "__config", "autofocus", 'type="text"', "<noscript", "<style"):
        assert bad not in out, (hostile, out)


def test_build_reports_inline_script_it_did_not_ship(tmp_path: Path) -> None:
    """An inline script from anywhere but the theme (here a template override) is reported at
    build time, so a strict build (kb check, CI) fails instead of publishing a blocked page."""
    from writer_project import make_project as make_writer_project

    project = make_writer_project(tmp_path / "kb", commit=False)
    main = project / "docs" / "overrides" / "main.html"
    main.write_text(main.read_text(encoding="utf-8") + "\n{% block footer %}{{ super() }}"
                    "<script>window.extra = 1</script>{% endblock %}\n", encoding="utf-8")
    proc = strict_build(project, tmp_path / "site")
    assert proc.returncode != 0
    assert re.search(r"index\.md: inline script that neither the theme nor kb ships",
                     proc.stderr + proc.stdout)


def test_missing_headers_file_gives_the_strictest_policy(hostile_site: Path,
                                                         tmp_path: Path) -> None:
    """A site built without our hooks is served with no inline script allowed at all."""
    from search.csp import STRICT_POLICY, SitePolicy

    site = tmp_path / "site"
    shutil.copytree(hostile_site / "about", site / "about")
    assert SitePolicy().for_root(str(site)) == STRICT_POLICY
    assert "sha256" not in STRICT_POLICY
