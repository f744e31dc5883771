"""Audience builds (issue 9): a page above KB_AUDIENCE leaves no trace; restricted links; badges.

One small git project (PDFs on) is built three times, once per audience. Unique markers sit in a
confidential policy, an internal policy and an internal manual (title, body, owner, tags, history
summary, file name, heading anchor, image file and alt text, attachment); every output file
(paths, bytes, gzip, PDF text and streams) and the Whoosh index read back through Whoosh are
searched for them.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import build_env, build_site, copy_project

# --------------------------------------------------------------------------- markers

#: confidential policy policies/lkcfile7f3a.md
CONF = {k: f"LKC{k}7f3a" for k in ("TITLE", "BODY", "OWNER", "TAG", "SUM", "HEAD", "ALT")}
CONF_FILES = {"FILE": "lkcfile7f3a", "IMG": "lkcimg7f3a", "ATT": "lkcatt7f3a"}
#: internal policy policies/lkifile7f3a.md (level from the root default) and internal manual
INT = {k: f"LKI{k}7f3a" for k in ("TITLE", "BODY", "OWNER", "TAG", "SUM", "HEAD", "ALT",
                                  "MTITLE", "CHAP")}
INT_FILES = {"FILE": "lkifile7f3a", "IMG": "lkiimg7f3a", "MAN": "lkiman7f3a"}
#: only in version 1.0 of the internal policy, which was confidential then
OLD_CONF = "LKXOLD7f3a"
#: a confidential notice
NOTICE = "LKCNOTICE7f3a"
#: on public pages: must be everywhere
PUBLIC = "LKPBODY7f3a"

#: front-matter references (issue 16): field -> (visible document, confidential one it names).
#: A visible page must not show the confidential document's number or title.
REFERENCES = {"superseded_by": ("XXZX-ZD-954", "XXZX-ZD-955"),
              "supersedes": ("XXZX-ZD-956", "XXZX-ZD-957")}
#: the confidential documents named by references: their numbers and titles
REF_CONF = {"XXZX-ZD-955": "LKCNEWREF7f3a", "XXZX-ZD-957": "LKCOLDREF7f3a"}

CONF_ALL = [*CONF.values(), *CONF_FILES.values(), NOTICE, *REF_CONF, *REF_CONF.values()]
INT_ALL = [*INT.values(), *INT_FILES.values()]
ALL_MARKERS = [*CONF_ALL, *INT_ALL, OLD_CONF, PUBLIC]

CONF_ANCHOR = f"应急处置-{CONF['HEAD'].lower()}"
INT_ANCHOR = f"备份要求-{INT['HEAD'].lower()}"


def controlled(doc_id: str, title: str, *, owner: str = "信息中心", version: str = "1.0",
               level: str | None = None, tags: str = "", summary: str = "",
               extra: str = "") -> str:
    """Front matter of a controlled document at version 1.0 or 1.1 (with its history)."""
    rows = '  - version: "1.0"\n    date: 2025-03-01\n    summary: 首次发布\n'
    if version == "1.1":
        rows += f'  - version: "1.1"\n    date: 2026-03-01\n    summary: 修订{summary}\n'
    effective = "2026-03-01" if version == "1.1" else "2025-03-01"
    lines = [f"doc_id: {doc_id}", f"title: {title}", f'version: "{version}"', "status: effective",
             f"owner: {owner}", "author: 张伟", "reviewer: 李娜", "approver: 王建国",
             f"effective_date: {effective}", "review_months: 12"]
    lines += [f"confidentiality: {level}"] if level else []
    lines += [f"tags: [{tags}]"] if tags else []
    lines += [extra] if extra else []
    return "---\n" + "\n".join(lines) + f"\nhistory:\n{rows}---\n# {title}\n\n"


def policy(doc_id: str, m: dict[str, str], version: str, level: str | None, extra: str = "") -> str:
    """A policy at ``version`` (1.0 or 1.1) carrying the markers of ``m``."""
    return (controlled(doc_id, f"{m['TITLE']} 管理办法", owner=m["OWNER"], version=version,
                       level=level, tags=m["TAG"], summary=m["SUM"])
            + f"**第一条** {m['BODY']} 本办法规定机房和数据的管理要求。\n\n{extra}\n")


def conf_policy(version: str) -> str:
    body = (f"![{CONF['ALT']}](images/{CONF_FILES['IMG']}.svg)\n\n"
            "![共用示意图](images/shared-figure.svg)\n\n"
            f"附件：[门禁登记表](files/{CONF_FILES['ATT']}.txt)\n\n"
            f"## 应急处置 {CONF['HEAD']}\n\n发生故障时按预案处置。\n")
    return policy("XXZX-ZD-951", CONF, version, "confidential", body)


def int_policy(version: str) -> str:
    body = (f"![{INT['ALT']}](images/{INT_FILES['IMG']}.svg)\n\n"
            f"## 备份要求 {INT['HEAD']}\n\n每日增量备份。\n\n"
            f"详见[机房规定]({CONF_FILES['FILE']}.md#{CONF_ANCHOR})。\n")
    if version == "1.0":  # this version was confidential, with text the current one dropped
        return policy("XXZX-ZD-952", INT, version, "confidential", body + f"\n{OLD_CONF} 旧条款。\n")
    return policy("XXZX-ZD-952", INT, version, None, body)


def reference_pair(field: str) -> dict[str, str]:
    """A public policy whose ``field`` names a confidential one (which names it back)."""
    visible, hidden = REFERENCES[field]
    if field == "superseded_by":  # the public one is old, replaced by a confidential one
        old = controlled(visible, "公开旧制度", level="public",
                         extra=f"superseded_by: {hidden}").replace("status: effective",
                                                                   "status: superseded")
        new = controlled(hidden, f"{REF_CONF[hidden]} 新制度", level="confidential",
                         extra=f"supersedes: {visible}")
        return {f"policies/ref-{field}-old.md": old + "旧条款。\n",
                f"policies/ref-{field}-new.md": new + "新条款。\n"}
    new = controlled(visible, "公开新制度", level="public", extra=f"supersedes: {hidden}")
    old = controlled(hidden, f"{REF_CONF[hidden]} 旧制度", level="confidential",
                     extra=f"superseded_by: {visible}").replace("status: effective",
                                                                "status: superseded")
    return {f"policies/ref-{field}-new.md": new + "新条款。\n",
            f"policies/ref-{field}-old.md": old + "旧条款。\n"}


PUBLIC_POLICY = controlled("XXZX-ZD-953", "公开发布规定", level="public", tags="公开") + f"""\
{PUBLIC} 公开信息发布前须经审核。相关要求见[机房规定]({CONF_FILES['FILE']}.md)和
[备份规定]({INT_FILES['FILE']}.md#{INT_ANCHOR})。

![共用示意图](images/shared-figure.svg)
"""
MANUAL = controlled("XXZX-SC-951", f"{INT['MTITLE']} 系统手册") + "本手册介绍内部系统。\n"
CHAPTER = f"""---
chapter: 1
title: {INT['CHAP']} 登录
---
# {INT['CHAP']} 登录

![登录界面](images/{INT_FILES['IMG']}-screen.svg)
"""

HOME = f"""# 首页

{PUBLIC} 欢迎使用知识库。

- [机房规定](../policies/{CONF_FILES['FILE']}.md#{CONF_ANCHOR})
- [备份规定](../policies/{INT_FILES['FILE']}.md)
- [内部手册](../manuals/{INT_FILES['MAN']}/index.md)
- [公开规定](../policies/open-rules.md)

## 通知公告

<!-- kb:current-announcements -->
"""
ABOUT = f"""# 关于

{PUBLIC} 本站由信息中心维护。

<p>另见 <a href="../policies/{CONF_FILES['FILE']}/">机房规定原文</a>。</p>
"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><title>{}</title></svg>\n'


def _git(repo: Path, *args: str, date: str = "2026-03-01") -> None:
    env = build_env({"GIT_AUTHOR_NAME": "张伟", "GIT_AUTHOR_EMAIL": "kb@example.cn",
                     "GIT_COMMITTER_NAME": "张伟", "GIT_COMMITTER_EMAIL": "kb@example.cn",
                     "GIT_AUTHOR_DATE": f"{date}T10:00:00+08:00",
                     "GIT_COMMITTER_DATE": f"{date}T10:00:00+08:00"})
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def make_project(dest: Path) -> Path:
    """The demo's config, hooks and theme with the pages above, in a git repository."""
    copy_project(dest, ("mkdocs.yml", "hooks", "docs"))
    for child in (dest / "docs").iterdir():
        if child.name not in ("overrides", "assets", "tags.md"):
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    pages = {
        "docs/index.md": HOME, "docs/about.md": ABOUT,
        "docs/announcements/index.md": "# 通知公告\n\n<!-- kb:announcement-archive -->\n",
        "docs/announcements/2026/2026-11-20-open-day.md":
            f"---\ntitle: 开放日安排\ndate: 2026-11-20\ncategory: 其他\n---\n# 开放日安排\n\n{PUBLIC} 开放日。\n",
        f"docs/announcements/2026/2026-11-21-{NOTICE.lower()}.md":
            f"---\ntitle: {NOTICE} 演练\ndate: 2026-11-21\ncategory: 其他\nconfidentiality: "
            f"confidential\n---\n# {NOTICE} 演练\n\n演练安排。\n",
        "policies/index.md": "---\nconfidentiality: public\n---\n# 制度\n\n<!-- kb:policy-register -->\n",
        "manuals/index.md": "---\nconfidentiality: public\n---\n# 用户手册\n\n<!-- kb:manual-register -->\n",
        "policies/open-rules.md": PUBLIC_POLICY,
        f"manuals/{INT_FILES['MAN']}/index.md": MANUAL,
        f"manuals/{INT_FILES['MAN']}/01-login.md": CHAPTER,
        f"policies/images/{CONF_FILES['IMG']}.svg": SVG.format("机房"),
        f"policies/images/{INT_FILES['IMG']}.svg": SVG.format("备份"),
        "policies/images/shared-figure.svg": SVG.format("共用"),
        f"manuals/{INT_FILES['MAN']}/images/{INT_FILES['IMG']}-screen.svg": SVG.format("登录"),
        f"policies/files/{CONF_FILES['ATT']}.txt": "门禁登记\n",
        f"policies/{CONF_FILES['FILE']}.md": conf_policy("1.0"),
        f"policies/{INT_FILES['FILE']}.md": int_policy("1.0"),
        ".gitignore": ".cache/\n",
    }
    for field in REFERENCES:
        pages.update(reference_pair(field))
    for rel, text in pages.items():
        _write(dest, rel, text)
    config = (dest / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"\nnav:\n(?:  .*\n)+", (
        "\nnav:\n  - 首页: index.md\n  - 制度: policies/index.md\n  - 用户手册:\n"
        "      - manuals/index.md\n      - 内部手册:\n"
        f"          - manuals/{INT_FILES['MAN']}/index.md\n"
        f"          - manuals/{INT_FILES['MAN']}/01-login.md\n"
        "  - 通知公告: announcements/index.md\n  - 关于: about.md\n  - 标签: tags.md\n"), config)
    assert "\n    pdf: false\n" in config
    config = config.replace("\n    pdf: false\n", "\n    pdf: true\n")
    (dest / "mkdocs.yml").write_text(config, encoding="utf-8")
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "v1.0", date="2025-03-01")
    _write(dest, f"policies/{CONF_FILES['FILE']}.md", conf_policy("1.1"))
    _write(dest, f"policies/{INT_FILES['FILE']}.md", int_policy("1.1"))
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "v1.1", date="2026-03-01")
    return dest


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("audience") / "kb")


def _build(project: Path, audience: str) -> Path:
    out = project.parent / f"site-{audience}"
    build_site(project, out, {"KB_AUDIENCE": audience})
    return out


@pytest.fixture(scope="module")
def sites(project: Path) -> dict[str, Path]:
    """The project built once per audience (strict)."""
    return {a: _build(project, a) for a in ("public", "internal", "confidential")}


# --------------------------------------------------------------------------- scanning


def _pdf_texts(path: Path) -> list[str]:
    """pdftotext and pdfinfo output plus every decompressed stream of a PDF."""
    out = [subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout,
           subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout]
    data = path.read_bytes()
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            out.append(zlib.decompressobj().decompress(data[match.end():]).decode("latin-1"))
        except zlib.error:
            continue
    return out


def _whoosh_texts(index_dir: Path) -> list[str]:
    """Every stored field of every document and every term of the Whoosh index."""
    from whoosh import index

    ix = index.open_dir(str(index_dir))
    out: list[str] = []
    with ix.searcher() as searcher:
        for fields in searcher.all_stored_fields():
            out.append(json.dumps(fields, ensure_ascii=False, default=str))
        for field, term in searcher.reader().all_terms():
            out.append(f"{field}:{term.decode('utf-8', 'replace') if isinstance(term, bytes) else term}")
    ix.close()
    return out


def scan(site: Path) -> dict[str, set[str]]:
    """Marker -> where it occurs in the site (relative paths, ``whoosh``)."""
    found: dict[str, set[str]] = {m: set() for m in ALL_MARKERS}

    def look(text: str, where: str) -> None:
        low = text.lower()
        for marker in ALL_MARKERS:
            if marker.lower() in low:
                found[marker].add(where)

    files = [p for p in site.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        rel = path.relative_to(site).as_posix()
        look(rel, rel)
        data = path.read_bytes()
        look(data.decode("utf-8", "replace"), rel)
        if path.suffix == ".gz":
            look(gzip.decompress(data).decode("utf-8", "replace"), rel)
        if path.suffix == ".pdf":
            for text in _pdf_texts(path):
                look(text, rel)
    for text in _whoosh_texts(site / ".search-index"):
        look(text, "whoosh")
    return found


@pytest.fixture(scope="module")
def found(sites: dict[str, Path]) -> dict[str, dict[str, set[str]]]:
    return {audience: scan(site) for audience, site in sites.items()}


def _page(site: Path, url: str) -> str:
    return (site / url / "index.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- leak tests


def test_public_build_has_no_internal_or_confidential_marker(found) -> None:
    """Public build: zero occurrences of any internal or confidential marker anywhere."""
    leaks = {m: w for m, w in found["public"].items() if w and m != PUBLIC}
    assert leaks == {}
    assert {"index.html", "whoosh", "search/search_index.json"} <= found["public"][PUBLIC]


def test_internal_build_has_internal_markers_only(found) -> None:
    """Internal build: every internal marker present, no confidential one, nor the old version."""
    leaks = {m: w for m, w in found["internal"].items() if w and m in [*CONF_ALL, OLD_CONF]}
    assert leaks == {}
    missing = [m for m in [*INT_ALL, PUBLIC] if not found["internal"][m]]
    assert missing == []


def test_confidential_build_has_every_marker(found) -> None:
    """Confidential build: every marker is present (so the scan can find them)."""
    assert [m for m in ALL_MARKERS if not found["confidential"][m]] == []


def test_markers_found_in_each_kind_of_output(found) -> None:
    """Where the confidential build shows them: page, file names, PDF, search indexes, feeds."""
    where = found["confidential"]
    page = f"policies/{CONF_FILES['FILE']}/index.html"
    for marker in (CONF["TITLE"], CONF["BODY"], CONF["OWNER"], CONF["SUM"], CONF["ALT"],
                   CONF["HEAD"]):
        assert page in where[marker], marker
    assert "whoosh" in where[CONF["TITLE"]] and "search/search_index.json" in where[CONF["BODY"]]
    assert f"policies/images/{CONF_FILES['IMG']}.svg" in where[CONF_FILES["IMG"]]
    assert f"policies/files/{CONF_FILES['ATT']}.txt" in where[CONF_FILES["ATT"]]
    assert "sitemap.xml.gz" in where[CONF_FILES["FILE"]]
    assert "tags/index.html" in where[CONF["TAG"]]
    assert any(w.endswith(".pdf") for w in where[CONF["TITLE"]])
    assert any(w.endswith(".xml") and "announcements" in w for w in where[NOTICE])
    assert any("1.0" in w for w in where[OLD_CONF])  # the archived version of the internal policy
    for field, (visible, hidden) in REFERENCES.items():  # a visible page names them (linked)
        page = f"policies/ref-{field}-{'old' if field == 'superseded_by' else 'new'}/index.html"
        assert {page, "whoosh", "search/search_index.json",
                ".search-fallback.pickle"} <= where[hidden], (field, where[hidden])
        assert page in where[REF_CONF[hidden]]


def test_shared_image_stays_and_unshared_go(sites: dict[str, Path]) -> None:
    """An image also used by a public page stays; images/attachments only hidden pages use go."""
    public = sites["public"]
    assert (public / "policies/images/shared-figure.svg").is_file()
    assert not (public / f"policies/images/{CONF_FILES['IMG']}.svg").exists()
    assert not (public / f"policies/files/{CONF_FILES['ATT']}.txt").exists()
    assert (sites["internal"] / f"policies/images/{INT_FILES['IMG']}.svg").is_file()
    assert not (sites["internal"] / f"policies/images/{CONF_FILES['IMG']}.svg").exists()


def test_pdfs_per_audience_carry_the_level_on_every_page(sites: dict[str, Path]) -> None:
    """PDFs only of documents in the build; a non-public one says its level on every page."""
    names = {a: sorted(p.name for p in s.rglob("*.pdf")) for a, s in sites.items()}
    assert len(names["public"]) < len(names["internal"]) < len(names["confidential"])
    pdf = next(p for p in sites["internal"].rglob("*.pdf") if "952" in p.name)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [t for t in text.split("\f") if t.strip()]
    # a short policy is one compact page (cover data and body together)
    assert len(pages) >= 1 and all("内部" in t for t in pages)


# --------------------------------------------------------------------------- restricted links


def _restricted(html: str) -> list[str]:
    tree = lxml_html.fromstring(html)
    return [el.text_content() for el in tree.xpath('//span[@class="kb-restricted"]')]


def test_links_to_hidden_pages_are_restricted_text(sites: dict[str, Path]) -> None:
    """Links to left-out pages: their own text plus 受限, no URL; links to kept pages stay links."""
    home = _page(sites["public"], "")
    assert _restricted(home) == ["机房规定受限", "备份规定受限", "内部手册受限"]
    assert '<span class="kb-restricted" title="受限内容">机房规定<span class="kb-badge ' \
           'kb-restricted__badge">受限</span></span>' in home
    assert 'href="policies/open-rules/"' in home
    internal = _page(sites["internal"], "")
    assert _restricted(internal) == ["机房规定受限"]
    assert f'href="policies/{INT_FILES["FILE"]}/"' in internal
    assert _restricted(_page(sites["confidential"], "")) == []
    assert f'href="policies/{CONF_FILES["FILE"]}/#{CONF_ANCHOR}"' in _page(sites["confidential"], "")


def test_raw_html_links_to_hidden_pages_are_restricted(sites: dict[str, Path]) -> None:
    """A link written as raw HTML is caught too (after Markdown, in the page's HTML)."""
    assert _restricted(_page(sites["internal"], "about")) == ["机房规定原文受限"]
    assert f'href="../policies/{CONF_FILES["FILE"]}/"' in _page(sites["confidential"], "about")


def test_build_report_lists_restricted_links(project: Path, sites: dict[str, Path]) -> None:
    """The report (outside the site) names each restricted link's source, line and target."""
    report = json.loads((project / ".cache/kb-audience/public.json").read_text(encoding="utf-8"))
    links = {(r["source"], r["line"], r["target"], r["text"]) for r in report["restricted_links"]
             if r["field"] is None}
    conf, intl = f"policies/{CONF_FILES['FILE']}.md", f"policies/{INT_FILES['FILE']}.md"
    assert {("docs/index.md", 5, conf, "机房规定"), ("docs/index.md", 6, intl, "备份规定"),
            ("docs/index.md", 7, f"manuals/{INT_FILES['MAN']}/index.md", "内部手册"),
            ("docs/about.md", 5, conf, "机房规定原文"),
            ("policies/open-rules.md", 21, conf, "机房规定"),
            ("policies/open-rules.md", 22, intl, "备份规定")} == links
    left = {p["path"] for p in report["left_out_pages"]}
    assert {conf, intl, f"manuals/{INT_FILES['MAN']}/01-login.md"} <= left
    assert f"policies/images/{CONF_FILES['IMG']}.svg" in report["removed_files"]
    assert "policies/images/shared-figure.svg" not in report["removed_files"]
    confidential = json.loads((project / ".cache/kb-audience/confidential.json").read_text("utf-8"))
    assert confidential["restricted_links"] == [] and confidential["removed_files"] == []


# ------------------------------------------------------------------ front-matter references


def test_every_reference_field_is_planted() -> None:
    """The leak fixtures cover every front-matter field that names another document."""
    from kb.content.model import MODELS, reference_fields

    fields = {name for model in MODELS.values() for name in reference_fields(model)}
    assert fields == set(REFERENCES) == {"supersedes", "superseded_by"}


def _reference_cells(html: str, field: str) -> list[str]:
    tree = lxml_html.fromstring(html)
    return [lxml_html.tostring(el, encoding="unicode")
            for el in tree.xpath(f'//*[@data-kb-field="{field}"]/dd')]


@pytest.mark.parametrize("field", sorted(REFERENCES))
def test_references_to_hidden_documents_are_restricted(sites: dict[str, Path],
                                                        field: str) -> None:
    """A visible page naming a left-out document in front matter shows 受限, never its number,
    title or URL (control block and banner); the confidential build links it."""
    visible, hidden = REFERENCES[field]
    url = f"policies/ref-{field}-{'old' if field == 'superseded_by' else 'new'}"
    for audience in ("public", "internal"):
        page = _page(sites[audience], url)
        cells = _reference_cells(page, field)
        assert cells and all('class="kb-restricted"' in c and "受限" in c for c in cells), cells
        assert hidden not in page and REF_CONF[hidden] not in page
        if field == "superseded_by":
            banner = lxml_html.fromstring(page).xpath(
                '//*[contains(@class, "kb-banner--superseded")]')
            assert banner and "受限" in banner[0].text_content()
    page = _page(sites["confidential"], url)
    assert [c for c in _reference_cells(page, field) if f">{hidden} {REF_CONF[hidden]}" in c]


def test_build_report_lists_restricted_references(project: Path, sites: dict[str, Path]) -> None:
    """The report names each restricted reference: source file, line, field and target."""
    report = json.loads((project / ".cache/kb-audience/internal.json").read_text(encoding="utf-8"))
    refs = {(r["source"], r["line"], r["field"], r["target"])
            for r in report["restricted_links"] if r["field"]}
    assert refs == {
        ("policies/ref-superseded_by-old.md", 13, "superseded_by",
         "policies/ref-superseded_by-new.md"),
        ("policies/ref-supersedes-new.md", 13, "supersedes", "policies/ref-supersedes-old.md")}


# --------------------------------------------------------------------------- badges, search API


def test_level_badge_on_every_page_once(sites: dict[str, Path]) -> None:
    """Pages without a control block get a level badge; controlled pages show it once (block)."""
    site = sites["confidential"]
    about = _page(site, "about")
    assert about.count("kb-level--public") == 1 and 'class="kb-page-level"' in about
    conf = _page(site, f"policies/{CONF_FILES['FILE']}")
    assert conf.count("kb-level--confidential") == 1 and "kb-page-level" not in conf
    notice = _page(site, f"announcements/2026/2026-11-21-{NOTICE.lower()}")
    assert 'class="kb-page-level"><span class="kb-badge kb-level kb-level--confidential"' in notice
    for page in site.rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        assert text.count('class="kb-badge kb-level ') >= 1, page


def _api(app, path: str, query: str = "") -> tuple[str, dict]:
    captured: dict[str, str] = {}

    def start_response(status: str, headers: list) -> None:
        captured["status"] = status

    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query},
                        start_response))
    try:
        return captured["status"], json.loads(body)
    except ValueError:
        return captured["status"], {}


def test_search_api_serves_only_its_own_audience(sites: dict[str, Path]) -> None:
    """The API of the public site finds no internal page; no parameter or path reaches another."""
    from search.service import create_app

    internal = create_app(sites["internal"], log_path=None, reload_interval=0)
    public = create_app(sites["public"], log_path=None, reload_interval=0)
    try:
        status, data = _api(internal, "/api/search", f"q={INT['TITLE']}")
        assert status.startswith("200") and data["total"] >= 1
        status, data = _api(public, "/api/search", f"q={INT['TITLE']}")
        assert status.startswith("200") and data["total"] == 0
        status, data = _api(public, "/api/search", f"q={PUBLIC}")
        assert data["total"] >= 1
        for query in (f"q={INT['TITLE']}&audience=internal", f"q={INT['TITLE']}&index=../site-internal",
                      f"q={INT['TITLE']}&site=internal", f"q={INT['TITLE']}&confidentiality=internal"):
            status, data = _api(public, "/api/search", query)
            assert status.startswith("400") and data["error"] == "bad_request", query
        for path in ("/.search-index/build.json", "/../site-internal/index.html",
                     "/%2e%2e/site-internal/index.html", "/.kb-audience"):
            status, _ = _api(public, path)
            assert status.startswith("404"), path
    finally:
        internal.close()
        public.close()


# --------------------------------------------------------------------------- units


def test_prune_nav_drops_hidden_pages_and_empty_sections() -> None:
    """Nav entries of left-out pages go, and so do sections left empty."""
    from kb.audience.filter import prune_nav

    nav = [{"首页": "index.md"}, {"手册": ["m/index.md", {"内部": ["m/x/index.md", "m/x/1.md"]}]},
           "about.md", {"外部": "https://example.org/"}]
    assert prune_nav(nav, {"m/x/index.md", "m/x/1.md", "about.md"}) == [
        {"首页": "index.md"}, {"手册": ["m/index.md"]}, {"外部": "https://example.org/"}]


def test_site_folder_of_another_audience_loses_its_index(tmp_path: Path) -> None:
    """Rebuilding a folder for another audience removes the index MkDocs does not clean."""
    from kb.audience.filter import clear_other_audience, mark_site

    for name in (".search-index", ".search-index.old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "seg").write_text("x")
    mark_site(str(tmp_path), "public")
    clear_other_audience(str(tmp_path), "public")
    assert (tmp_path / ".search-index.old").is_dir()
    mark_site(str(tmp_path), "confidential")
    clear_other_audience(str(tmp_path), "public")
    assert not (tmp_path / ".search-index").exists() and not (tmp_path / ".search-index.old").exists()


def test_chapter_goes_with_its_manual_and_levels_order() -> None:
    """A chapter of a manual above the audience is left out even when its own level is lower."""
    from types import SimpleNamespace

    from kb.audience.filter import level_reason

    manual = SimpleNamespace(level="confidential", manual=None)
    chapter = SimpleNamespace(level="public", manual=manual)
    page = SimpleNamespace(level="internal", manual=None)
    public, internal = level_reason("public"), level_reason("internal")
    assert "confidential" in (internal(chapter) or "") and internal(page) is None
    assert "internal" in (public(page) or "") and level_reason("confidential")(chapter) is None


def test_references_found_in_every_link_form() -> None:
    """Inline links and images, reference definitions and raw HTML; not external or absolute."""
    from kb.audience.filter import references

    text = ('![图](images/a.svg "标题") [表](files/b%20c.xlsx#p) <img src="images/d.png">\n'
            '[ref]: ../images/e.svg\n[外部](https://example.org/x.png) [根](/assets/f.svg)\n'
            "<a href='files/g.pdf'>下载</a>\n")
    assert sorted(references(text)) == ["../images/e.svg", "files/b c.xlsx", "files/g.pdf",
                                        "images/a.svg", "images/d.png"]


def test_archived_pages_take_their_documents_level(demo_site: Path) -> None:
    """An archived version and a comparison show their policy's level, not the public index's."""
    import lxml.html as lhtml

    def levels(url: str) -> list[str]:
        tree = lhtml.parse(str(demo_site / url / "index.html"))
        return [el.text_content().strip() for el in tree.xpath("//*[contains(@class, 'kb-level--')]")]

    assert levels("policies/") == ["公开"]  # the register page itself is public
    assert levels("policies/network/") == ["内部"]
    assert levels("policies/XXZX-ZD-005/v1.0/") == ["内部"]
    assert levels("policies/XXZX-ZD-005/diff/v1.0-v2.0/") == ["内部"]
