"""Foundation: content roots, URLs, cross-root links, Chinese anchors, edit links, no external loads."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from conftest import ROOT, build_site, copy_project
from documents_project import policy

EDIT_BASE = "https://git.infocenter.example/infocenter/kb/_edit/main/"


# --------------------------------------------------------------------------- helpers


class _Refs(HTMLParser):
    """Collects every resource reference of a page (what a browser would load) and anchors."""

    LOADING = {("link", "href"), ("script", "src"), ("img", "src"), ("source", "src"),
               ("iframe", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
               ("object", "data"), ("image", "href"), ("use", "href"), ("input", "src")}

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])  # type: ignore[arg-type]
        rel = (a.get("rel") or "").split()
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in self.LOADING and not (tag == "link" and not set(rel) & {
                    "stylesheet", "icon", "preload", "modulepreload", "manifest",
                    "apple-touch-icon", "prefetch"}):
                self.loads.append(value)
            if name == "srcset":
                self.loads += [part.strip().split()[0] for part in value.split(",") if part.strip()]
            if name == "style":
                self.styles.append(value)
            if tag == "a" and name == "href":
                self.links.append(value)
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def parse(path: Path) -> _Refs:
    refs = _Refs()
    refs.feed(path.read_text(encoding="utf-8"))
    return refs


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme in ("http", "https", "ftp")


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def expected_dest(src_uri: str) -> str:
    """Where MkDocs (use_directory_urls) writes the page of a source URI."""
    stem = src_uri[:-3]
    if stem == "index" or stem.endswith("/index") or stem.endswith("README"):
        return stem.rsplit("/", 1)[0] + "/index.html" if "/" in stem else "index.html"
    return f"{stem}/index.html"


def resolve(site: Path, page: Path, href: str) -> tuple[Path, str]:
    """Site file and fragment an internal link of ``page`` points at."""
    base = "/" + page.relative_to(site).as_posix()
    parts = urlsplit(urljoin(base, href))
    target = site / unquote(parts.path).lstrip("/")
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


# --------------------------------------------------------------------------- fixture project

@pytest.fixture(scope="module")
def link_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project whose pages link across roots in repository form and in site form."""
    project = copy_project(tmp_path_factory.mktemp("links") / "kb", ("mkdocs.yml", "hooks"))
    (project / "docs" / "overrides").mkdir(parents=True)
    (project / "docs" / "overrides" / "main.html").write_text(
        (ROOT / "docs/overrides/main.html").read_text(encoding="utf-8"), encoding="utf-8")
    (project / "docs" / "assets").mkdir()
    for sub in ("stylesheets", "images", "javascripts"):
        src = ROOT / "docs" / "assets" / sub
        if src.is_dir():
            import shutil

            shutil.copytree(src, project / "docs" / "assets" / sub)
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"\nnav:\n(?:  .*\n)+", "\n", config)  # the demo's nav names demo pages
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    files = {
        "docs/index.md": "# 首页\n\n[网络](../policies/net.md#补充说明) · "
                         "[站点形式](policies/net.md) · [第一章](../manuals/m/01-start.md)\n",
        "docs/about.md": "# 关于\n\n## 补充说明\n\n正文。\n",
        "policies/net.md": policy("XXZX-ZD-001", "网络制度", extra="confidentiality: public",
                                  body="## 补充说明\n\n见[关于](../docs/about.md#补充说明)和"
                                       "[第一章](../manuals/m/01-start.md)。\n\n![拓扑](images/topo.svg)"),
        "policies/images/topo.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                                    'height="10"><rect width="10" height="10"/></svg>\n',
        "manuals/m/index.md": policy("XXZX-SC-001", "测试手册", extra="confidentiality: public",
                                     body="[第一章](01-start.md)"),
        "manuals/m/01-start.md": "---\nchapter: 1\ntitle: 开始\n---\n# 开始\n\n"
                                 "回到[网络制度](../../policies/net.md#补充说明)与[首页](../../docs/index.md)。\n",
    }
    for rel, text in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    out = project.parent / "site"
    build_site(project, out)
    return out


def test_root_pages_get_root_urls(link_site: Path) -> None:
    """Files of policies/ and manuals/ are published under /policies/ and /manuals/."""
    for dest in ("policies/net/index.html", "manuals/m/index.html",
                 "manuals/m/01-start/index.html", "policies/images/topo.svg", "about/index.html"):
        assert (link_site / dest).is_file(), dest


def test_repository_form_links_resolve_in_site(link_site: Path) -> None:
    """Links written as they work in the repository resolve to pages and anchors in the site."""
    checked = 0
    for page in ("index.html", "policies/net/index.html", "manuals/m/01-start/index.html"):
        refs = parse(link_site / page)
        for href in refs.links:
            if is_external(href) or href.startswith("#") or ".md" not in href and "/" not in href:
                continue
            assert ".md" not in href, f"{page}: unconverted link {href}"
            target, fragment = resolve(link_site, link_site / page, href)
            assert target.is_file(), f"{page}: {href} -> {target}"
            if fragment:
                assert fragment in parse(target).ids, f"{page}: {href} anchor missing"
            checked += 1
    assert checked >= 6


def test_site_form_link_still_works(link_site: Path) -> None:
    """A link already written relative to the site (docs/index.md -> policies/net.md) works."""
    links = parse(link_site / "index.html").links
    assert links.count("policies/net/") >= 1 and "policies/net/#补充说明" in links


def test_chinese_heading_anchor_keeps_chinese(link_site: Path) -> None:
    """``## 补充说明`` gets the anchor ``#补充说明``."""
    assert "补充说明" in parse(link_site / "about/index.html").ids
    assert "补充说明" in parse(link_site / "policies/net/index.html").ids


def test_edit_links_point_at_real_sources(link_site: Path) -> None:
    """"Edit this page" opens the file where it really lives in the repository."""
    expected = {"about/index.html": "docs/about.md", "policies/net/index.html": "policies/net.md",
                "manuals/m/01-start/index.html": "manuals/m/01-start.md"}
    for page, source in expected.items():
        assert EDIT_BASE + source in parse(link_site / page).links, page


def test_docs_folder_may_not_shadow_a_root(tmp_path: Path, link_site: Path) -> None:
    """A docs/policies/ folder would clash with the policies root: a clear error names it."""
    project = link_site.parent / "kb"
    clash = project / "docs" / "policies" / "x.md"
    clash.parent.mkdir()
    clash.write_text("# x\n", encoding="utf-8")
    try:
        proc = build_site(project, tmp_path / "out", check=False)
    finally:
        clash.unlink()
        clash.parent.rmdir()
    assert proc.returncode != 0
    assert "docs/policies/x.md" in proc.stderr + proc.stdout


# --------------------------------------------------------------------------- the demo


def demo_sources() -> list[str]:
    """Site source URIs of every Markdown file of every content root of the demo."""
    uris = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")
            if not p.relative_to(ROOT / "docs").as_posix().startswith("overrides/")
            and p.name != "README.md"]
    for root in ("policies", "manuals"):
        uris += [p.relative_to(ROOT).as_posix() for p in (ROOT / root).rglob("*.md")]
    return sorted(uris)


@pytest.fixture(scope="session")
def full_demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built for the widest audience with previews on: every source becomes a page."""
    out = tmp_path_factory.mktemp("demo-full") / "site"
    build_site(ROOT, out, {"KB_PREVIEW": "1", "KB_AUDIENCE": "confidential"})
    return out


def test_every_source_becomes_a_page(full_demo_site: Path) -> None:
    """Every Markdown file of docs/, policies/ and manuals/ is published at its expected URL."""
    sources = demo_sources()
    assert len(sources) >= 30
    missing = [s for s in sources if not (full_demo_site / expected_dest(s)).is_file()]
    assert not missing


def test_no_page_loads_anything_from_another_host(demo_site: Path) -> None:
    """No built HTML or CSS references a stylesheet, script, font or image on another host."""
    offenders: list[str] = []
    for html in demo_site.rglob("*.html"):
        refs = parse(html)
        offenders += [f"{html.name}: {u}" for u in refs.loads if is_external(u)]
        for style in refs.styles:
            offenders += [f"{html.name}: {m}" for m in CSS_URL.findall(style) if is_external(m[0] or m[1])]
    for css in demo_site.rglob("*.css"):
        for match in CSS_URL.finditer(css.read_text(encoding="utf-8", errors="replace")):
            url = match.group(1) or match.group(2)
            if is_external(url):
                offenders.append(f"{css.name}: {url}")
    # Material's bundle names two loaders it only uses when needed: a ResizeObserver polyfill
    # (every supported browser has ResizeObserver) and mermaid (only for ```mermaid blocks).
    conditional = {"https://unpkg.com/resize-observer-polyfill",
                   "https://unpkg.com/mermaid@11/dist/mermaid.min.js"}
    cdn = re.compile(r"https?://(?:fonts\.googleapis|fonts\.gstatic|cdn\.jsdelivr|unpkg\.com|"
                     r"cdnjs|polyfill\.io)[^\s\"'`)]*")
    for js in demo_site.rglob("*.js"):
        text = js.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{js.name}: {m}" for m in cdn.findall(text) if m not in conditional]
    assert not any('class="mermaid"' in h.read_text(encoding="utf-8") for h in demo_site.rglob("*.html"))
    assert not offenders


def test_demo_has_the_promised_content(demo_site: Path) -> None:
    """At least 10 policies, 2 manuals of 5+ chapters, 3 courses and 10 notices are published."""
    policies = [p for p in (ROOT / "policies").glob("*.md") if p.name != "index.md"]
    assert len(policies) >= 10
    manuals = [d for d in (ROOT / "manuals").iterdir() if d.is_dir()]
    assert len(manuals) >= 2
    for manual in manuals:
        chapters = [p for p in manual.glob("*.md") if p.name != "index.md"]
        assert len(chapters) >= 5, manual.name
    courses = [p for p in (ROOT / "docs/training").glob("*.md") if p.name != "index.md"]
    assert len(courses) >= 3
    notices = [p for p in (ROOT / "docs/announcements").rglob("*.md") if p.name != "index.md"]
    assert len(notices) >= 10


@pytest.mark.browser
def test_browser_follows_links_without_external_requests(demo_site: Path, browser, static_server) -> None:
    """Chromium opens the home page, follows links to a policy and a chapter; all loads are local."""
    base = static_server(demo_site)
    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base)
    assert "信息中心知识库" in page.title()
    page.locator("a[href*='policies/']").filter(has_not_text="制度目录").first
    policy_link = page.locator("article a[href*='policies/']").first
    policy_title = policy_link.inner_text().strip()
    policy_link.click()
    page.wait_for_load_state("load")
    assert "/policies/" in page.url
    assert policy_title.split("（")[0] in page.title() or page.locator("h1").first.is_visible()
    page.goto(base)
    chapter_link = page.locator("a[href*='manuals/']").first
    chapter_link.click()
    page.wait_for_load_state("load")
    assert "/manuals/" in page.url and page.locator("h1").first.inner_text().strip()
    external = [u for u in requests if not u.startswith(base) and not u.startswith("data:")]
    assert not external and not errors
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["", "policies/network/", "manuals/oa/01-login/", "search/",
                                  "tags/", "404.html"])
def test_axe_finds_no_serious_violation(demo_site: Path, browser, static_server, path: str,
                                        scheme: str) -> None:
    """axe-core finds no serious or critical accessibility violation on home, a policy, a
    chapter, the search page, the tags page and the 404 page, in the light and dark palettes."""
    from conftest import serious_axe_violations

    base = static_server(demo_site)
    page = browser.new_page(color_scheme=scheme)
    built = demo_site / path if path.endswith(".html") else demo_site / path / "index.html"
    assert built.is_file(), f"{path} was not built"
    page.goto(base + path)
    expected = "slate" if scheme == "dark" else "default"
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected
    violations = serious_axe_violations(page)
    page.close()
    assert not violations, [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
                            for v in violations]
