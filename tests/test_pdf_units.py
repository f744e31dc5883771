"""PDF failure paths on tiny hand-made sites: each problem is an error naming the page.

No MkDocs build here: a built page is a small HTML file with Material's article element, and
real WeasyPrint renders it (one page, about a second).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kb.config import KBSettings
from kb.errors import ContentErrors
from kb.print.document import Assembler, stylesheet
from kb.print.render import check_fonts, inputs_version, render_all
from kb.print.targets import Section, Target
from kb.print.buttons import DEFAULT_FONTS, PrintBuild

PAGE = "policies/sample.md"


def site_with(tmp_path: Path, body: str) -> Path:
    """A one-page 'built site' whose article holds ``body``."""
    site = tmp_path / "site"
    (site / "policies/sample").mkdir(parents=True)
    (site / "policies/sample/index.html").write_text(
        '<html><head><meta charset="utf-8"></head><body>'
        '<article class="md-content__inner md-typeset"><h1 id="t">样例制度</h1>'
        f"{body}</article></body></html>", encoding="utf-8")
    return site


def target() -> Target:
    section = Section(PAGE, "policies/sample/index.html", "policies/sample/", None, "样例制度")
    return Target("policy", PAGE, "policies/sample/index.html", "policies/sample/XXZX-ZD-999.pdf",
                  "样例制度", None, (("文件编号", "XXZX-ZD-999"),), "XXZX-ZD-999 v1.0", "internal",
                  (section,))


def assemble(site: Path):
    return Assembler(str(site), "https://kb.example/", "信息中心",
                     stylesheet(DEFAULT_FONTS)).document(target())


def test_missing_image_is_an_error_naming_the_page(tmp_path: Path) -> None:
    """An image the page uses but the site lacks stops the PDF with the page's source path."""
    document, errors = assemble(site_with(tmp_path, '<p><img src="../images/nope.png" alt="x"></p>'))
    assert document is None
    assert [(e.file, e.field) for e in errors] == [(PAGE, "image")]
    assert "../images/nope.png" in str(errors[0]) and "missing" in str(errors[0])


def test_network_image_is_refused(tmp_path: Path) -> None:
    """PDFs load nothing from the network: a remote image is an error naming the page."""
    _, errors = assemble(site_with(tmp_path, '<img src="https://cdn.example/x.png" alt="x">'))
    assert [(e.file, e.field) for e in errors] == [(PAGE, "image")]


def test_unreadable_image_fails_the_render(tmp_path: Path) -> None:
    """An image file WeasyPrint cannot read is a render error naming the page, no PDF written."""
    site = site_with(tmp_path, '<p><img src="../images/broken.png" alt="x"></p>')
    (site / "policies/images").mkdir()
    (site / "policies/images/broken.png").write_bytes(b"not a png at all")
    document, errors = assemble(site)
    assert document is not None and not errors
    fonts, _ = check_fonts(DEFAULT_FONTS)
    report, errors = render_all([document], site_dir=str(site), cache_dir=str(tmp_path / "c"),
                                version=inputs_version(fonts), workers=1)
    assert [e.file for e in errors] == [PAGE]
    assert "Failed to load image" in str(errors[0])
    assert report.rendered == [] and not (site / target().output).exists()


def test_weasyprint_warnings_are_logged_naming_the_page(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A WeasyPrint warning (bad CSS in the page) reaches mkdocs.plugins.kb.pdf, PDF still made."""
    document, _ = assemble(site_with(tmp_path, '<p style="color: not-a-colour">正文</p>'))
    fonts, _ = check_fonts(DEFAULT_FONTS)
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.kb.pdf"):
        report, errors = render_all([document], site_dir=str(tmp_path / "site"),
                                    cache_dir=str(tmp_path / "c"), version=inputs_version(fonts),
                                    workers=1)
    assert not errors and report.rendered == [target().output]
    warnings = [r.getMessage() for r in caplog.records if r.name == "mkdocs.plugins.kb.pdf"
                and r.levelno == logging.WARNING]
    assert any(PAGE in w and "WeasyPrint" in w and "not-a-colour" in w for w in warnings), warnings


def test_missing_font_is_an_error_naming_each_page(tmp_path: Path) -> None:
    """A configured font family fontconfig cannot find stops the PDFs, naming every page."""
    settings = KBSettings(pdf=True, pdf_fonts={"serif": "No Such Serif SC"})
    build = PrintBuild(settings, str(tmp_path), "internal", targets=[target()])
    with pytest.raises(ContentErrors) as failure:
        build.render(str(site_with(tmp_path, "<p>正文</p>")), None, "信息中心")
    [error] = failure.value.errors
    assert error.file == PAGE and error.field == "PDF font (extra.kb.pdf_fonts.serif)"
    assert "No Such Serif SC" in error.expected


def test_default_fonts_resolve_to_the_sc_faces() -> None:
    """fontconfig resolves every default family to a readable Noto CJK file, SC face."""
    fonts, problems = check_fonts(DEFAULT_FONTS)
    assert problems == []
    assert {f.family for f in fonts} == set(DEFAULT_FONTS.values())
    assert all("NotoS" in Path(f.path).name and f.index > 0 for f in fonts)  # face 0 is JP


def test_complete_build_prunes_the_pdf_cache(tmp_path: Path) -> None:
    """A complete build records the PDFs it used and removes the rest: the PDF of an edited
    page's old text and partial files of killed renders go; PDFs another audience's last build
    used stay; a ``kb pdf PATH`` selection (no scope) removes nothing."""
    from kb.print.cache import PdfCache

    fonts, _ = check_fonts(DEFAULT_FONTS)
    cache = PdfCache(tmp_path / "c")
    other = cache.path("ab" + "0" * 38)  # the public site's PDF, recorded by its own build
    other.parent.mkdir(parents=True)
    other.write_bytes(b"%PDF-public")
    cache.record("public", [other.stem])

    def build(text: str, scope: str | None) -> Path:
        """Render the page with ``text``; return its PDF's cache file."""
        site = site_with(tmp_path / text, f"<p>{text}</p>")
        document, _ = assemble(site)
        version = inputs_version(fonts)
        report, errors = render_all([document], site_dir=str(site), cache_dir=str(cache.folder),
                                    version=version, workers=1, scope=scope)
        assert not errors and report.rendered == [target().output]
        return cache.path(document.digest(str(site), version))

    first = build("第一版正文", "internal")
    partial = first.with_name(f"{first.name}.12345.part")
    partial.write_bytes(b"%PDF-half")
    selected = build("只选一份", None)  # kb pdf PATH: adds, removes nothing
    assert first.exists() and selected.exists() and partial.exists()
    second = build("第二版正文", "internal")
    assert second.exists() and other.exists()
    assert not first.exists() and not selected.exists() and not partial.exists()
    assert json_report(cache.folder)["pruned"] == 3


def test_pdf_cache_in_use_elsewhere_is_not_pruned(tmp_path: Path) -> None:
    """While another process renders from the cache (shared lock), pruning removes nothing;
    once it is done, the next pruning does."""
    import subprocess
    import sys

    from kb.print.cache import PdfCache

    cache = PdfCache(tmp_path / "c")
    unused = cache.path("cd" + "1" * 38)
    unused.parent.mkdir(parents=True)
    unused.write_bytes(b"%PDF-old")
    cache.record("internal", [])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom kb.print.cache import PdfCache\n"
         "with PdfCache(sys.argv[1]).in_use():\n    print('in use', flush=True)\n"
         "    time.sleep(600)\n", str(cache.folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "in use"
        assert cache.prune() is None and unused.exists()
    finally:
        holder.kill()
        holder.wait()
    assert cache.prune() == [unused] and not unused.exists()


def json_report(cache_dir: Path) -> dict:
    import json

    return json.loads((cache_dir / "last-run.json").read_text(encoding="utf-8"))


def test_fallback_font_is_an_error_naming_the_character(tmp_path: Path) -> None:
    """A character missing from the configured CJK fonts (✕, set by fontconfig in DejaVu) stops
    the PDF with the page, the font and the character; nothing is written."""
    document, _ = assemble(site_with(tmp_path, "<p>Close: &#10005;</p>"))
    fonts, _ = check_fonts(DEFAULT_FONTS)
    report, errors = render_all([document], site_dir=str(tmp_path / "site"),
                                cache_dir=str(tmp_path / "c"), version=inputs_version(fonts),
                                workers=1, families=tuple(DEFAULT_FONTS.values()))
    assert [e.file for e in errors] == [PAGE]
    assert "fallback font" in str(errors[0]) and "U+2715" in str(errors[0])
    assert report.rendered == [] and not list((tmp_path / "c").rglob("*.pdf"))


def test_booklet_order_is_saddle_stitch() -> None:
    """Sheet sides of a folded booklet: (last, first), (second, second-to-last), ...; padded to
    four with blanks."""
    from kb.print.booklet import booklet_order

    assert booklet_order(8) == [(7, 0), (1, 6), (5, 2), (3, 4)]
    assert booklet_order(5) == [(None, 0), (1, None), (None, 2), (3, 4)]
    assert booklet_order(1) == [(None, 0), (None, None)]


def test_short_cells_and_numbers_never_split(tmp_path: Path) -> None:
    """Short cells are marked nowrap (as many as leave room in the table), numbers and dates
    in longer cells go in no-break spans; long code blocks may break, short ones are kept."""
    rows = "".join(f"<tr><td>公开</td><td>值班电话 010-8888-800{i}，工作日有人值守</td></tr>"
                   for i in range(3))
    code = "\n".join(f"line {i}" for i in range(40))
    document, _ = assemble(site_with(tmp_path, f"<table>{rows}</table>"
                                     f'<div class="highlight"><pre><code>{code}</code></pre></div>'
                                     '<div class="highlight"><pre><code>a\nb</code></pre></div>'))
    assert document is not None
    assert document.html.count('<td class="kb-nowrap">公开</td>') == 3
    assert '<span class="kb-nobr">010-8888-8001</span>' in document.html
    assert document.html.count('class="highlight kb-keep"') == 1


def test_paragraphs_never_end_on_a_lone_character(tmp_path: Path) -> None:
    """Paragraphs of 42 to 53 characters (a line is about 46: some are a line and one character
    long): no last line shorter than four characters in the rendered PDF."""
    import subprocess

    sentence = "本制度适用于信息中心全体职工以及驻场外包人员在办公区域内使用的全部终端设备和账号凭证" * 2
    paragraphs = "".join(f"<p>{sentence[:n - 2]}证；</p>" for n in range(42, 54))
    document, _ = assemble(site_with(tmp_path, paragraphs))
    assert document is not None and document.html.count('<span class="kb-nobr">') == 12
    fonts, _ = check_fonts(DEFAULT_FONTS)
    report, errors = render_all([document], site_dir=str(tmp_path / "site"),
                                cache_dir=str(tmp_path / "c"), version=inputs_version(fonts),
                                workers=1)
    assert not errors
    text = subprocess.run(["pdftotext", str(tmp_path / "site" / target().output), "-"],
                          capture_output=True, text=True, check=True).stdout
    ends = [line.strip() for line in text.splitlines() if line.strip().endswith("证；")]
    assert len(ends) == 12 and min(len(line) for line in ends) >= 4, ends


def test_page_without_article_is_an_error_naming_it(tmp_path: Path) -> None:
    """A built page without Material's article (another theme), or missing, is an error naming
    the source page, not a crash."""
    site = tmp_path / "site"
    (site / "policies/sample").mkdir(parents=True)
    (site / "policies/sample/index.html").write_text("<html><body><p>正文</p></body></html>",
                                                     encoding="utf-8")
    document, errors = assemble(site)
    assert document is None and [e.file for e in errors] == [PAGE]
    assert "article element" in str(errors[0])
    (site / "policies/sample/index.html").unlink()
    _, errors = assemble(site)
    assert [e.file for e in errors] == [PAGE] and "no such file" in str(errors[0])
