"""PDFs and printing, read back with poppler: a chapter, a whole manual, a policy and a handout.

One project (the demo plus the small manual of ``tests/data/pdf_manual`` with a 1600×900 PNG) is
built ONCE with ``extra.kb.pdf`` limited to four PDFs; every test reads those files with
``pdftotext``, ``pdfinfo``, ``pdffonts``, ``pdfimages``, ``pdftohtml -xml`` (outline),
``pdftoppm`` (pixels) and ``zbarimg`` (the QR code). The manual carries a stress chapter (a
400×1800 phone screenshot, a 90-line code block, a table of short cells and numbers, a long mixed
Chinese/English paragraph); the course gives a trainee handout and a trainer's copy. A second run
through ``kb pdf`` with the same cache must render nothing; one ``kb pdf --draft --booklet`` run
makes an A5 review copy of a draft and its booklet. The print stylesheet is checked in chromium
with print media emulation.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from html import unescape
from pathlib import Path

import pytest

from conftest import ROOT, build_env, build_site, copy_project
from kb.content.model import parse_front_matter

DATA = Path(__file__).parent / "data" / "pdf_manual"
MANUAL = "manuals/printtest"
POLICY = "policies/network.md"
COURSE = "docs/training/backup-practice.md"
PDF_PATHS = (f"{MANUAL}/index.md", f"{MANUAL}/01-login.md", POLICY, COURSE)


def front(repo_path: str, project: Path = ROOT) -> dict:
    """Front matter of a source file of the project."""
    parsed, errors = parse_front_matter((project / repo_path).read_text(encoding="utf-8"),
                                        repo_path)
    assert parsed is not None and not errors
    return parsed.data


def run(*cmd: str | Path) -> str:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          check=True).stdout


@dataclass
class Pdf:
    """A rendered PDF, read back with poppler (each tool once)."""

    path: Path

    @cached_property
    def pages(self) -> int:
        return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", self.path), re.M).group(1))

    @cached_property
    def page_texts(self) -> list[str]:
        """Text of each page (pdftotext separates pages with form feeds)."""
        return run("pdftotext", "-layout", self.path, "-").split("\f")[: self.pages]

    @cached_property
    def text(self) -> str:
        return "\n".join(self.page_texts)

    @cached_property
    def outline(self) -> list[tuple[int, str, int]]:
        """Bookmarks as (depth, title, page)."""
        xml = run("pdftohtml", "-xml", "-stdout", "-i", "-q", self.path)
        root = ET.fromstring(xml)
        out: list[tuple[int, str, int]] = []

        def walk(node: ET.Element, depth: int) -> None:
            for child in node:
                if child.tag == "item":
                    out.append((depth, (child.text or "").strip(), int(child.get("page", 0))))
                elif child.tag == "outline":
                    walk(child, depth + 1)

        top = root.find("outline")
        assert top is not None, "the PDF has no bookmarks"
        walk(top, 1)
        return out

    def page_of(self, heading: str, start: int = 3) -> int:
        """1-based page on which ``heading`` starts a line (skipping cover and 目录)."""
        for number, text in enumerate(self.page_texts, 1):
            if number >= start and re.search(rf"^\s*{re.escape(heading)}\s*$", text, re.M):
                return number
        raise AssertionError(f"{heading!r} not found as a line in {self.path.name}")


def _png(path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1600, 900), "#e8eaf6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 1500, 800), outline="#3f51b5", width=8)
    draw.rectangle((650, 600, 950, 680), fill="#3f51b5")
    image.save(path)


#: the colour of the tall phone screenshot of the stress chapter, found again in page renders
PHONE_RGB = (255, 0, 255)


def _phone_png(path: Path) -> None:
    """A 400×1800 phone screenshot: magenta, so its pixels can be found on rendered pages."""
    from PIL import Image

    Image.new("RGB", (400, 1800), PHONE_RGB).save(path)


@pytest.fixture(scope="session")
def pdf_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project plus a small test manual, PDFs on for four documents."""
    project = copy_project(tmp_path_factory.mktemp("pdf") / "kb")
    shutil.copytree(DATA, project / MANUAL)
    (project / MANUAL / "images").mkdir()
    _png(project / MANUAL / "images" / "screen.png")
    _phone_png(project / MANUAL / "images" / "phone.png")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "\n    pdf: false\n" in text
    only = ", ".join(PDF_PATHS)
    config.write_text(text.replace("\n    pdf: false\n", f"\n    pdf: true\n    pdf_only: [{only}]\n"
                                   "    pdf_cache_dir: .cache/kb-pdf\n"), encoding="utf-8")
    return project


@pytest.fixture(scope="session")
def pdf_site(pdf_project: Path) -> Path:
    """The project built once, strict, with its four PDFs."""
    out = pdf_project / "site"
    build_site(pdf_project, out)
    return out


def _pdf(site: Path, folder: str, name: str) -> Pdf:
    path = site / folder / name
    assert path.is_file(), f"missing {path.relative_to(site)}; PDFs: " + ", ".join(
        str(p.relative_to(site)) for p in site.rglob("*.pdf"))
    return Pdf(path)


@pytest.fixture(scope="session")
def chapter_pdf(pdf_site: Path) -> Pdf:
    return _pdf(pdf_site, f"{MANUAL}/01-login", "XXZX-SC-901-01.pdf")


@pytest.fixture(scope="session")
def manual_pdf(pdf_site: Path) -> Pdf:
    return _pdf(pdf_site, MANUAL, "XXZX-SC-901.pdf")


@pytest.fixture(scope="session")
def policy_pdf(pdf_site: Path) -> Pdf:
    return _pdf(pdf_site, "policies/network", f"{front(POLICY)['doc_id']}.pdf")


@pytest.fixture(scope="session")
def course_pdf(pdf_site: Path) -> Pdf:
    """The trainee handout."""
    return _pdf(pdf_site, "training/backup-practice", f"{front(COURSE)['course_code']}.pdf")


@pytest.fixture(scope="session")
def trainer_pdf(pdf_site: Path) -> Pdf:
    """The trainer's copy of the course."""
    return _pdf(pdf_site, "training/backup-practice",
                f"{front(COURSE)['course_code']}-trainer.pdf")


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def words(pdf: Pdf, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, word) of one page (pdftotext -bbox)."""
    xml = run("pdftotext", "-bbox", "-f", page, "-l", page, pdf.path, "-")
    return [(float(a), float(b), float(c), float(d), unescape(w)) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        xml)]


def page_image(pdf: Pdf, page: int, folder: Path, dpi: int = 72):  # type: ignore[no-untyped-def]
    """One page rendered by pdftoppm, as an RGB PIL image (at 72 dpi a pixel is a point)."""
    from PIL import Image

    stem = folder / f"{pdf.path.stem}-{page}-{dpi}"
    run("pdftoppm", "-f", page, "-l", page, "-r", dpi, "-png", "-singlefile", pdf.path, stem)
    return Image.open(f"{stem}.png").convert("RGB")


# --------------------------------------------------------------------------- what was built


def test_only_the_selected_pdfs_are_built(pdf_site: Path, pdf_project: Path) -> None:
    """pdf_only limits the build to the four requested PDFs, all rendered on this first run."""
    built = sorted(str(p.relative_to(pdf_site)) for p in pdf_site.rglob("*.pdf"))
    code = front(COURSE)["course_code"]
    assert built == sorted([f"{MANUAL}/XXZX-SC-901.pdf", f"{MANUAL}/01-login/XXZX-SC-901-01.pdf",
                            f"policies/network/{front(POLICY)['doc_id']}.pdf",
                            f"training/backup-practice/{code}.pdf",
                            f"training/backup-practice/{code}-trainer.pdf"])
    report = json.loads((pdf_project / ".cache/kb-pdf/last-run.json").read_text(encoding="utf-8"))
    assert sorted(report["rendered"]) == built and report["reused"] == []


# --------------------------------------------------------------------------- chapter


def test_chapter_body_header_footer(chapter_pdf: Pdf) -> None:
    """A chapter PDF: the Chinese body, 'manual — chapter' header, 'id vX.Y · 第 N 页 / 共 M 页',
    the uncontrolled-copy line with the generation time and 密级 on every page."""
    body = "首次使用前，请确认已经领取统一身份认证账号。"
    assert body in flat(chapter_pdf.text)
    total = chapter_pdf.pages
    for number, text in enumerate(chapter_pdf.page_texts, 1):
        assert "密级：内部" in text, f"page {number} lacks the marking"
        assert f"XXZX-SC-901 v2.1 · 第 {number} 页 / 共 {total} 页" in text
        assert "打印件为非受控文件，以网站现行版本为准 · 生成于 2026-11-27 " in text
        assert text.lstrip().startswith("打印测试手册 — 第 1 章 登录与账号"), number


def test_generation_time_is_the_sites_zone_and_cover_labels_hold(policy_pdf: Pdf,
                                                                  course_pdf: Pdf) -> None:
    """Outside report items 13/14: 生成于 is extra.kb.timezone's time (Asia/Shanghai here) and
    says so; a cover label (编制 / 审核 / 批准, 生成时间) is never split from itself or its value."""
    for pdf in (policy_pdf, course_pdf):
        for text in pdf.page_texts:
            assert re.search(r"生成于 2026-11-27 \d\d:\d\d UTC\+8\b", text), text[-300:]
        lines = pdf.page_texts[0].splitlines()
        assert any(re.search(r"生成时间\s+2026-11-27 \d\d:\d\d UTC\+8", line) for line in lines)
    assert any("编制 / 审核 / 批准" in line for line in policy_pdf.page_texts[0].splitlines())


def test_clock_now_in_a_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """kb.clock.now(zone): that zone's time of day on KB_TODAY, offset attached and shown."""
    import datetime as dt

    from kb import clock

    monkeypatch.setenv("KB_TODAY", "2026-11-27")
    shanghai, utc = clock.now("Asia/Shanghai"), clock.now("UTC")
    assert shanghai.date() == utc.date() == dt.date(2026, 11, 27)
    assert shanghai.utcoffset() == dt.timedelta(hours=8) and clock.zone_label(shanghai) == "UTC+8"
    assert clock.zone_label(utc) == "UTC"
    assert clock.zone_label(clock.now("Asia/Kolkata")) == "UTC+5:30"
    assert (shanghai.hour - utc.hour) % 24 in (8, 7, 9)  # a minute may pass between the calls


def test_short_chapter_is_folded(chapter_pdf: Pdf) -> None:
    """A chapter of about one page has no cover page nor 目录 page: its cover data head page 1,
    the body follows on the same page, 修订记录 closes the PDF; bookmarks still lead there."""
    first = chapter_pdf.page_texts[0]
    assert chapter_pdf.pages <= 2
    assert not re.search(r"^\s*目\s*录\s*$", chapter_pdf.text, re.M)
    for expected in ("信息中心", "用户手册", "打印测试手册", "第 1 章 登录与账号", "XXZX-SC-901",
                     "2.1", "2026年3月1日", "信息中心运维部", "现行有效", "内部资料",
                     "下次复审", "2027年3月1日", "生成时间"):
        assert expected in first, expected
    assert chapter_pdf.page_of("第 1 章 登录与账号", start=1) == 1
    last = chapter_pdf.page_texts[-1]
    assert last.index("修订记录") > last.find("找回密码")
    outline = chapter_pdf.outline
    assert (1, "第 1 章 登录与账号", 1) in outline
    assert (2, "找回密码", chapter_pdf.page_of("找回密码", start=1)) in outline
    assert (1, "修订记录", chapter_pdf.pages) in outline


def test_chapter_document_control(chapter_pdf: Pdf, tmp_path: Path) -> None:
    """The QR code decodes (zbar) to the page's URL under site_url; the PDF is tagged (PDF/UA),
    has its CreationDate and opens with the bookmarks pane; the watermark is on every page."""
    page = page_image(chapter_pdf, 1, tmp_path, dpi=150)
    png = tmp_path / "qr.png"
    page.save(png)
    decoded = run("zbarimg", "--quiet", "--raw", png).split()
    assert decoded == [f"https://kb.infocenter.example/{MANUAL}/01-login/"]
    info = run("pdfinfo", chapter_pdf.path)
    assert re.search(r"^Tagged:\s+yes", info, re.M)
    assert re.search(r"^CreationDate:.*2026", info, re.M), info
    from pypdf import PdfReader

    assert PdfReader(chapter_pdf.path).trailer["/Root"]["/PageMode"] == "/UseOutlines"


def test_chapter_image_full_resolution_and_links(chapter_pdf: Pdf) -> None:
    """The screenshot is embedded at its full 1600×900; external links print their URL."""
    listing = run("pdfimages", "-list", chapter_pdf.path).splitlines()[2:]
    sizes = [line.split()[3:5] for line in listing if line.split()[2] == "image"]
    assert sizes.count(["1600", "900"]) == 1  # beside it only the watermark
    assert len({tuple(size) for size in sizes}) == 2, listing
    flat = chapter_pdf.text.replace("\n", "").replace(" ", "")
    assert "（https://www.example.org/identity/password-reset-guide-for-staff-members.html）" in flat
    assert "■已领取账号" in flat and "□已修改初始密码" in flat
    assert "注意" in flat  # the untitled note got a Chinese title


# --------------------------------------------------------------------------- whole manual


def test_manual_toc_pages_and_bookmarks(manual_pdf: Pdf) -> None:
    """The whole manual: 目录 entries per chapter with correct pages, chapters on new pages."""
    toc = manual_pdf.page_texts[1]
    chapters = sorted(DATA.glob("0*.md"))
    assert len(chapters) == 4
    pages = []
    for source in chapters:
        meta = front(source.name, DATA)
        heading = f"第 {meta['chapter']} 章 {meta['title']}"
        page = manual_pdf.page_of(heading)
        pages.append(page)
        assert re.search(rf"{heading}\s*\.{{5,}}\s*{page}\s*$", toc, re.M), (heading, page)
        assert manual_pdf.page_texts[page - 1].lstrip().splitlines()[0].startswith(
            f"打印测试手册 — {heading}")
        assert (1, heading, page) in manual_pdf.outline
    assert pages == sorted(set(pages))  # each chapter starts its own page
    assert (2, "有线网络", manual_pdf.page_of("有线网络")) in manual_pdf.outline
    assert (1, "修订记录", 3) in manual_pdf.outline
    last = manual_pdf.page_texts[-1]
    assert f"第 {manual_pdf.pages} 页 / 共 {manual_pdf.pages} 页" in last


def test_manual_links_between_chapters_stay_inside(manual_pdf: Pdf) -> None:
    """A link from chapter 1 to chapter 2 points inside the PDF, not at a file or the web."""
    urls = run("pdfinfo", "-url", manual_pdf.path)
    assert "02-network" not in urls and "file:" not in urls
    assert "https://www.example.org/identity/" in urls


def test_manual_wide_table_and_long_code_not_clipped(manual_pdf: Pdf) -> None:
    """Every word of the wide table and the long command line lies inside the page."""
    html = run("pdftotext", "-bbox", manual_pdf.path, "-")
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', html)]
    assert right_edges and max(right_edges) <= width - 20
    raw = flat(run("pdftotext", "-raw", manual_pdf.path, "-"))  # text in the order it is set
    assert "把全部输出截图发给服务台" in raw
    assert "会议室信息点默认关闭" in raw and "登记使用人" in raw  # last column of the table


# --------------------------------------------------------------------------- stress chapter


def test_stress_tall_image_scaled_with_its_heading(manual_pdf: Pdf, tmp_path: Path) -> None:
    """The 400×1800 phone screenshot is embedded whole, scaled into the page box: on the page of
    its heading and of the line after it, inside the margins (never through the footer)."""
    listing = run("pdfimages", "-list", manual_pdf.path).splitlines()[2:]
    assert ["400", "1800"] in [line.split()[3:5] for line in listing]
    page = manual_pdf.page_of("手机端长截图")
    assert "截图下方的说明" in manual_pdf.page_texts[page - 1]
    image = page_image(manual_pdf, page, tmp_path)
    pixels = image.load()
    rows = [y for y in range(image.height) for x in range(0, image.width, 4)
            if pixels[x, y] == PHONE_RGB]
    assert rows, "the screenshot is not on its heading's page"
    mm = 72 / 25.4
    assert min(rows) > 27 * mm and max(rows) < image.height - 22 * mm, (min(rows), max(rows))


def test_stress_long_code_breaks_under_its_heading(manual_pdf: Pdf) -> None:
    """The 90-line code block starts on its heading's page (no heading left alone, no page left
    near-empty before an unbreakable block) and continues on the next."""
    page = manual_pdf.page_of("长代码")
    assert "line-01" in manual_pdf.page_texts[page - 1]
    end = next(n for n, text in enumerate(manual_pdf.page_texts, 1) if "line-90" in text)
    assert end > page and "巡检脚本到此结束" in manual_pdf.page_texts[end - 1]


def test_stress_table_cells_and_mixed_paragraph(manual_pdf: Pdf) -> None:
    """Short cells, phone numbers and dates stay whole; the mixed Chinese/English paragraph is
    set without stretched spaces (every gap between words is one plain space); a link to a
    controlled document prints its number and version."""
    page = manual_pdf.page_of("窄列表格")
    text = manual_pdf.page_texts[page - 1]
    assert re.search(r"OA\s+公开\s+010-8888-8001\s+2026-03-01\s+信息中心运维部", text), text
    assert re.search(r"VPN\s+内部\s+010-8888-8002\s+2025-11-15\s+信息中心网络组", text)
    assert flat(f"网络管理制度（{front(POLICY)['doc_id']} v{front(POLICY)['version']}）") in flat(text)
    found = words(manual_pdf, manual_pdf.page_of("中英文混排"))
    start = next(i for i, w in enumerate(found) if "信息中心的办公" in w[4])
    end = next(i for i, w in enumerate(found) if "定位问题所在" in w[4])
    gaps = [b[0] - a[2] for a, b in zip(found[start:end], found[start + 1:end + 1])
            if abs(a[1] - b[1]) < 1]
    assert len(gaps) >= 10 and max(gaps) < 4.0, gaps


def test_header_rule_is_one_line_and_body_below_it(manual_pdf: Pdf, tmp_path: Path) -> None:
    """The running header's rule crosses the text width in one piece; the body starts at least
    4 mm under it."""
    page = manual_pdf.page_of("长代码")
    image = page_image(manual_pdf, page, tmp_path).convert("L")
    pixels = image.load()
    mm = 72 / 25.4

    def run_length(y: int) -> int:
        best = length = 0
        for x in range(image.width):
            length = length + 1 if pixels[x, y] < 235 else 0
            best = max(best, length)
        return best

    rule_y, longest = max(((y, run_length(y)) for y in range(int(15 * mm), int(26 * mm))),
                          key=lambda item: item[1])
    assert longest > image.width - 40 * mm, (rule_y, longest)
    below = [w[1] for w in words(manual_pdf, page) if w[1] > rule_y]
    assert min(below) - rule_y >= 4 * mm, (rule_y, min(below))


def test_watermark_on_every_page_of_an_internal_pdf(manual_pdf: Pdf, course_pdf: Pdf,
                                                    tmp_path: Path) -> None:
    """An internal manual carries the faint diagonal 内部资料 · 内部版 on every page: one image
    (its words never mix into the page text) drawn on each page, visible in the render of a
    text page; the public handout carries none."""
    assert "内部版" not in manual_pdf.text
    rows = [line.split() for line in run("pdfimages", "-list", manual_pdf.path).splitlines()[2:]]
    marks = [row for row in rows if row[2] == "image" and row[3:5] != ["1600", "900"]
             and row[3:5] != ["400", "1800"]]
    assert sorted(int(row[0]) for row in marks) == list(range(1, manual_pdf.pages + 1))
    assert len({row[10] for row in marks}) == 1  # one image object for all pages
    image = page_image(manual_pdf, manual_pdf.page_of("修订记录", start=3), tmp_path, dpi=30)
    tint = sum(1 for r, g, b in image.getdata()  # its red at 12 % over white
               if abs(r - 246) <= 6 and abs(g - 225) <= 8 and abs(b - 229) <= 8)
    assert tint > 50, tint
    assert run("pdfimages", "-list", course_pdf.path).splitlines()[2:] == []


def test_fonts_are_embedded_simplified_chinese(manual_pdf: Pdf, policy_pdf: Pdf) -> None:
    """pdffonts: every font embedded; body and headings in the SC faces of Noto CJK, no JP."""
    for pdf in (manual_pdf, policy_pdf):
        rows = run("pdffonts", pdf.path).splitlines()[2:]
        names = [row.split()[0] for row in rows]
        assert all(" yes " in f" {row} " for row in rows)
        assert any("Noto-Serif-CJK-SC" in n for n in names), names
        assert any("Noto-Sans-CJK-SC" in n for n in names), names
        assert not any(re.search(r"CJK-?(JP|jp)", n) for n in names), names
        assert not any("DejaVu" in n for n in names), names  # no fallback font slipped in


def test_cover_renders_to_a_non_blank_image(manual_pdf: Pdf, tmp_path: Path) -> None:
    """pdftoppm renders the cover page to an image with real ink on it."""
    from PIL import Image

    run("pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", manual_pdf.path, tmp_path / "cover")
    image = Image.open(next(tmp_path.glob("cover*.png"))).convert("L")
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 500, dark


# --------------------------------------------------------------------------- policy and handout


def test_policy_pdf(policy_pdf: Pdf) -> None:
    """A policy: cover data from its front matter, marking, header and footer on each page."""
    meta = front(POLICY)
    cover = policy_pdf.page_texts[0]
    day = meta["effective_date"]
    y, m, d = (int(x) for x in str(day).split("-"))
    for expected in (meta["title"], meta["doc_id"], meta["version"], meta["owner"],
                     f"{y}年{m}月{d}日", "管理制度", "内部资料"):
        assert expected in cover, expected
    footer = f"{meta['doc_id']} v{meta['version']}"
    for number, text in enumerate(policy_pdf.page_texts[1:], 2):
        assert f"{footer} · 第 {number} 页 / 共 {policy_pdf.pages} 页" in text
        assert "密级：内部" in text
        assert text.lstrip().startswith(meta["title"])
    assert "修订记录" in policy_pdf.page_texts[2]
    assert (1, meta["title"], policy_pdf.page_of(meta["title"], start=4)) in policy_pdf.outline


def test_course_handout_is_public_without_marking(course_pdf: Pdf) -> None:
    """A public course handout: its cover, objectives and footer; no confidentiality marking,
    no stray level badge; 培训目标 and 先修要求 come after the title, not before."""
    meta = front(COURSE)
    cover = course_pdf.page_texts[0]
    for expected in (meta["title"], meta["course_code"], meta["trainer"], "培训讲义（学员版）"):
        assert expected in cover, expected
    assert "密级：" not in course_pdf.text and "内部资料" not in course_pdf.text
    text = flat(course_pdf.text)
    assert all(flat(o) in text for o in meta["objectives"])
    assert f"{meta['course_code']} · 第 2 页 / 共 {course_pdf.pages} 页" in course_pdf.page_texts[1]
    lines = [line.strip() for line in course_pdf.text.splitlines() if line.strip()]
    assert "公开" not in lines  # the page's level badge is not printed
    title = next(i for i, line in enumerate(lines) if line == meta["title"])
    assert title < lines.index("培训目标") < lines.index("先修要求") < lines.index("课程安排")


def test_trainee_and_trainer_editions(course_pdf: Pdf, trainer_pdf: Pdf) -> None:
    """The trainee handout has the quiz questions with room to write and no answer nor trainer
    note; the trainer's copy has the answers (参考答案) and the notes."""
    answer = "便于申请人核对恢复结果"
    note = "可让学员先删除桌面上的练习文件"
    trainee, trainer = flat(course_pdf.text), flat(trainer_pdf.text)
    for question in ("练习1：误删共享盘上的文件三天后才发现", "练习2：为什么恢复出来的数据"):
        assert question in trainee and question in trainer
    assert answer not in trainee and note not in trainee and "参考答案" not in trainee
    assert trainee.count("答：") == 2
    assert answer in trainer and note in trainer and trainer.count("参考答案") == 2
    assert "培训讲义（讲师版）" in trainer_pdf.page_texts[0]


@pytest.mark.browser
def test_trainer_notes_hidden_on_the_course_page(pdf_site: Path, browser, static_server) -> None:
    """The trainer note is in the course page's HTML but not shown in chromium (screen and
    print) and left out of the search text; the quiz questions are shown."""
    html = (pdf_site / "training/backup-practice/index.html").read_text(encoding="utf-8")
    assert 'class="admonition trainer"' in html
    from search.extract import DROP_CLASSES

    assert "trainer" in DROP_CLASSES
    page = browser.new_page()
    try:
        page.goto(static_server(pdf_site) + "training/backup-practice/")
        assert page.locator("details.question").first.is_visible()
        assert not page.locator(".admonition.trainer").is_visible()
        page.emulate_media(media="print")
        assert not page.locator(".admonition.trainer").is_visible()
    finally:
        page.close()


# --------------------------------------------------------------------------- site pages


def test_pages_link_their_pdfs_and_print(pdf_site: Path) -> None:
    """Chapter, manual, policy and course pages link their PDF (下载 PDF) and have 打印."""
    from lxml import html as lhtml

    pages = {f"{MANUAL}/01-login/index.html": ("下载本章 PDF", "下载整本手册 PDF"),
             f"{MANUAL}/index.html": ("下载整本手册 PDF",),
             "policies/network/index.html": ("下载 PDF",),
             # the trainer's copy (answers) is not offered to every reader (outside report 8)
             "training/backup-practice/index.html": ("下载学员讲义 PDF",)}
    for page, labels in pages.items():
        tree = lhtml.parse(str(pdf_site / page))
        links = {a.text_content(): a.get("href") for a in tree.xpath(
            "//div[@class='kb-print-actions']/a")}
        assert sorted(links) == sorted(labels), (page, links)
        for href in links.values():
            assert (pdf_site / page).parent.joinpath(href).resolve().is_file(), (page, href)
        assert tree.xpath("//div[@class='kb-print-actions']/button[@data-kb-print]")
        assert "trainer.pdf" not in (pdf_site / page).read_text("utf-8"), page


def test_training_catalog_lists_every_course(pdf_site: Path) -> None:
    """培训目录: one row per course in docs/training with code, title link, duration, trainer."""
    from lxml import html as lhtml

    tree = lhtml.parse(str(pdf_site / "training/index.html"))
    assert "kb:training-catalog" not in (pdf_site / "training/index.html").read_text("utf-8")
    rows = tree.xpath("//div[@class='kb-training-catalog']//tbody/tr")
    courses = [front(p.relative_to(ROOT).as_posix()) for p in sorted((ROOT / "docs/training")
                                                                      .glob("*.md"))
               if p.name != "index.md"]
    assert len(rows) == len(courses) >= 4
    by_code = {row.xpath("td")[0].text_content(): row for row in rows}
    for meta in courses:
        row = by_code[meta["course_code"]]
        cells = [td.text_content() for td in row.xpath("td")]
        assert cells[1:5] == [meta["title"], meta["duration"], meta["audience"], meta["trainer"]]
        href = row.xpath("td[2]/a/@href")[0]
        assert (pdf_site / "training" / href / "index.html").is_file()
    pdf_cell = by_code[front(COURSE)["course_code"]].xpath("td[6]/a/@href")
    assert pdf_cell and (pdf_site / "training" / pdf_cell[0]).is_file()


# --------------------------------------------------------------------------- cache


def test_kb_pdf_second_run_renders_nothing(pdf_site: Path, pdf_project: Path,
                                           chapter_pdf: Pdf, tmp_path: Path) -> None:
    """`kb pdf` on the same sources reuses every PDF from the cache: byte-identical, 0 rendered."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "pdf", *PDF_PATHS, "-f",
                           str(pdf_project / "mkdocs.yml"), "-o", str(out)],
                          capture_output=True, text=True, env=build_env(), cwd=pdf_project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("(cached)") == 5 and "(rendered)" not in proc.stdout
    report = json.loads((pdf_project / ".cache/kb-pdf/last-run.json").read_text(encoding="utf-8"))
    assert report["rendered"] == [] and len(report["reused"]) == 5
    assert (out / "XXZX-SC-901-01.pdf").read_bytes() == chapter_pdf.path.read_bytes()


def test_kb_pdf_draft_a5_booklet(pdf_project: Path, tmp_path: Path) -> None:
    """`kb pdf --draft --booklet --copy-number 3` on a draft internal policy: an A5 review copy
    marked 征求意见稿 on every page, numbered 第 3 份 on its cover, and its booklet: A4 landscape
    sides, pages in saddle-stitch order."""
    from kb.print.booklet import booklet_order

    draft = "policies/genai-usage.md"
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "pdf", "--draft", "--booklet",
                           "--copy-number", "3", draft,
                           "-f", str(pdf_project / "mkdocs.yml"), "-o", str(out)],
                          capture_output=True, text=True, env=build_env(), cwd=pdf_project)
    assert proc.returncode == 0, proc.stderr
    copy = Pdf(out / f"{front(draft)['doc_id']}.pdf")
    assert re.search(r"^Page size:\s+419\.5\d* x 595\.2\d* pts",
                     run("pdfinfo", copy.path), re.M)
    for number, text in enumerate(copy.page_texts, 1):
        assert "征求意见稿" in text, number
    assert "内部资料·未经许可不得外传·第3份" in flat(copy.page_texts[0])
    booklet = Pdf(out / f"{front(draft)['doc_id']}-booklet.pdf")
    order = booklet_order(copy.pages)
    assert booklet.pages == len(order)
    assert re.search(r"^Page size:\s+841\.8\d* x 595\.2\d* pts", run("pdfinfo", booklet.path), re.M)
    for side, (left, right) in enumerate(order, 1):
        text = booklet.page_texts[side - 1]
        shown = sorted(int(n) for n in re.findall(r"第 (\d+) 页 / 共", text))
        numbered = {i + 1 for i in (left, right) if i is not None}
        if "第 1 页" not in copy.page_texts[0]:  # a cover page has no page number
            numbered.discard(1)
        assert shown == sorted(numbered), side


def test_kb_pdf_unknown_path_exit_2(pdf_project: Path, tmp_path: Path) -> None:
    """`kb pdf` with a path that has no PDF says so and exits 2."""
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "pdf", "docs/about.md", "-f",
                           str(pdf_project / "mkdocs.yml"), "-o", str(tmp_path)],
                          capture_output=True, text=True, env=build_env(), cwd=pdf_project)
    assert proc.returncode == 2
    assert "docs/about.md: expected a policy" in proc.stderr


# --------------------------------------------------------------------------- browser print


@pytest.mark.browser
def test_print_stylesheet_in_chromium(pdf_site: Path, browser, static_server,
                                      tmp_path: Path) -> None:
    """Print media hides the chrome, keeps the control block, prints external URLs."""
    base = static_server(pdf_site)
    page = browser.new_page()
    try:
        page.goto(base + f"{MANUAL}/01-login/")
        page.wait_for_selector("article a[href^='https://www.example.org']", state="attached")
        chrome = (".md-header", ".md-sidebar--primary", ".md-footer", ".kb-print-actions")
        assert all(page.locator(sel).first.is_visible() for sel in chrome)  # on screen
        page.evaluate("() => { window.print = () => { window.__kbPrinted = true; }; }")
        page.locator("[data-kb-print]").first.click()
        assert page.evaluate("() => window.__kbPrinted === true")  # the 打印 button prints
        page.emulate_media(media="print")
        assert not any(page.locator(sel).first.is_visible() for sel in chrome)
        assert page.locator(".kb-control").is_visible()
        assert page.locator("article h1").is_visible()
        after = page.evaluate("""() => getComputedStyle(document.querySelector(
            'article a[href^="https://www.example.org"]'), '::after').content""")
        assert "https://www.example.org/identity/password-reset-guide" in after
        assert page.evaluate("""() => getComputedStyle(document.querySelector(
            'article img')).breakInside""") == "avoid"
        pdf = tmp_path / "printed.pdf"
        page.pdf(path=str(pdf), format="A4")
        text = run("pdftotext", "-layout", pdf, "-")
        assert "登录与账号" in text and "文件编号" in text
        assert "password-reset-guide" in text.replace("\n", "").replace(" ", "")
        assert "编辑此页" not in text and "下载本章 PDF" not in text and "搜索" not in text
    finally:
        page.close()
