"""Versioned documents from real git repositories: last updated, authors, archived versions,
comparisons, revision record, shallow clones and the version-discipline check (issue 4)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEST_TODAY, build_env, build_site
from kb.versions.git import load, parse_log
from kb.versions.textdiff import compare, inline_diff, render

MKDOCS_YML = """\
site_name: 历史测试
site_url: https://kb.example/
docs_dir: docs
exclude_docs: |
  overrides/
theme:
  name: material
  custom_dir: docs/overrides
  language: zh
  font: false
hooks:
  - hooks/roots.py
  - hooks/documents.py
  - hooks/history.py
  - hooks/slots.py
nav:
  - 首页: index.md
  - 关于: about.md
markdown_extensions:
  - admonition
  - attr_list
  - md_in_html
  - tables
  - toc:
      permalink: true
extra:
  kb:
    roots:
      - dir: policies
        type: policy
        confidentiality: internal
      - dir: manuals
        type: manual
        confidentiality: internal
"""

POLICY = """\
---
doc_id: XXZX-ZD-101
title: 口令安全管理规定
version: "{version}"
status: effective
owner: 信息中心
author: 张伟
reviewer: 李娜
approver: 王建国
effective_date: {date}
review_months: 12
history:
{history}---
# 口令安全管理规定

## 第一章 总则

**第一条** 本规定适用于{scope}。

详见[关于本站](../docs/about.md)。

## 第二章 口令要求

**第二条** 口令长度不少于{length}位，每{days}天更换一次。
{extra}
## 第三章 附则

**第三条** 本规定由信息中心负责解释。
"""

HISTORY = {
    "1.0": ("2025-01-10", "首次发布"),
    "1.1": ("2025-03-05", "口令长度提高到十二位"),
    "2.0": ("2025-09-15", "扩大适用范围，增加多因素认证要求"),
}


MANUAL = """\
---
doc_id: XXZX-SC-101
title: 远程接入用户手册
version: "{version}"
status: effective
owner: 信息中心
author: 张伟
reviewer: 李娜
approver: 王建国
effective_date: 2025-01-10
review_months: 12
history:
  - version: "1.0"
    date: 2025-01-10
    summary: 首次发布
{more}---
# 远程接入用户手册

本手册介绍远程接入的申请与使用。
"""
CHAPTER = "---\nchapter: 1\ntitle: 安装客户端\n---\n# 安装客户端\n\n{text}\n"


def policy(version: str, *, scope: str, length: int, days: int, extra: str = "") -> str:
    """The test policy at ``version`` with a history entry for it and every earlier one."""
    rows = "".join(f'  - version: "{v}"\n    date: {d}\n    summary: {s}\n    approver: 王建国\n'
                   for v, (d, s) in HISTORY.items() if v <= version)
    return POLICY.format(version=version, date=HISTORY[version][0], history=rows, scope=scope,
                         length=length, days=days, extra=extra)


def git(repo: Path, *args: str, author: str = "张伟", date: str | None = None) -> str:
    """Run git in ``repo`` as ``author`` at ``date`` (both author and committer date)."""
    env = build_env({"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "kb@example.cn",
                     "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "kb@example.cn"})
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{date}T10:00:00+08:00"
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def commit(repo: Path, message: str, author: str, date: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, author=author, date=date)


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def make_repo(repo: Path) -> Path:
    """A small project whose policy goes through v1.0, v1.1, a rename and v2.0."""
    repo.mkdir(parents=True)
    write(repo, "mkdocs.yml", MKDOCS_YML)
    shutil.copytree(ROOT / "hooks", repo / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "docs" / "overrides", repo / "docs" / "overrides")
    write(repo, ".gitignore", ".cache/\n")
    write(repo, "docs/index.md", "# 首页\n\n## 最近更新\n\n<!-- kb:recently-updated -->\n")
    write(repo, "docs/about.md", "# 关于\n\n本站由信息中心维护。\n")
    write(repo, "manuals/index.md", "# 用户手册\n")
    write(repo, "policies/index.md", "# 制度\n")
    git(repo, "init", "-q", "-b", "main")
    write(repo, "policies/passwords.md", policy("1.0", scope="信息中心全体员工", length=8, days=90))
    write(repo, "manuals/vpn/index.md", MANUAL.format(version="1.0", more=""))
    write(repo, "manuals/vpn/01-install.md", CHAPTER.format(text="从服务台领取安装包。"))
    commit(repo, "口令规定 v1.0", "张伟", "2025-01-10")
    write(repo, "policies/passwords.md", policy("1.1", scope="信息中心全体员工", length=12, days=90))
    commit(repo, "口令规定 v1.1", "李娜", "2025-03-05")
    git(repo, "mv", "policies/passwords.md", "policies/password-security.md")
    commit(repo, "改名", "王芳", "2025-06-01")
    write(repo, "policies/password-security.md",
          policy("2.0", scope="全校各单位及信息中心全体员工", length=12, days=180,
                 extra="\n**第二条之一** 远程登录须启用多因素认证。\n"))
    write(repo, "manuals/vpn/index.md", MANUAL.format(version="1.1", more=(
        '  - version: "1.1"\n    date: 2025-09-15\n    summary: 改为从门户下载客户端\n')))
    write(repo, "manuals/vpn/01-install.md", CHAPTER.format(text="从信息门户下载安装包。"))
    commit(repo, "口令规定 v2.0", "张伟", "2025-09-15")
    write(repo, "docs/about.md", "# 关于\n\n本站由信息中心维护，内容每周更新。\n")
    commit(repo, "关于页", "赵敏", "2025-10-01")
    return repo


@pytest.fixture(scope="session")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("history") / "kb")


@pytest.fixture(scope="session")
def site(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("history-site") / "site"
    build_site(repo, out)
    return out


def html(site: Path, url: str) -> str:
    return (site / url / "index.html").read_text("utf-8")


def article(page: str) -> str:
    match = re.search(r"<article.*?</article>", page, re.S)
    assert match, "no article"
    return match.group(0)


def meta(page: str, name: str) -> list[str]:
    return re.findall(rf'<meta name="{re.escape(name)}" content="([^"]*)"', page)


# --------------------------------------------------------------------------- git data


def test_one_pass_follows_rename_and_orders_authors(repo: Path) -> None:
    """The history pass maps pre-rename commits to the file's current path."""
    history = load(repo, use_cache=False)
    fh = history.get("policies/password-security.md")
    assert fh is not None and "policies/passwords.md" not in history.files
    assert [t.commit.date.isoformat() for t in fh.touches] == [
        "2025-09-15", "2025-06-01", "2025-03-05", "2025-01-10"]
    assert [t.path for t in fh.touches][-1] == "policies/passwords.md"
    assert fh.authors == ["张伟", "王芳", "李娜"]  # 2 commits, then most recent first


def test_cache_is_keyed_by_head(repo: Path) -> None:
    """A second load reads the cache file named after HEAD and gives the same data."""
    first = load(repo)
    cache = repo / ".cache" / "kb" / f"git-history-{first.head}.json"
    assert cache.is_file()
    again = load(repo)
    assert again.files.keys() == first.files.keys()
    assert again.get("docs/about.md").authors == ["赵敏", "张伟"]


def test_re_added_path_does_not_inherit_deleted_file() -> None:
    """A path deleted and later added again starts a new history at the add."""
    z, b1, b2 = "0" * 40, "1" * 40, "2" * 40
    raw = (f"\x1eC3\x1f2025-03-01T00:00:00+08:00\x1fA\x1fa@x\x00\n"
           f":000000 100644 {z} {b2} A\x00x.md\x00"
           f"\x1eC2\x1f2025-02-01T00:00:00+08:00\x1fB\x1fb@x\x00\n"
           f":100644 000000 {b1} {z} D\x00x.md\x00"
           f"\x1eC1\x1f2025-01-01T00:00:00+08:00\x1fB\x1fb@x\x00\n"
           f":000000 100644 {z} {b1} A\x00x.md\x00").encode()
    files = parse_log(raw)
    assert [t.commit.sha for t in files["x.md"].touches] == ["C3"]


# --------------------------------------------------------------------------- pages


def test_last_updated_and_authors_match_commits(site: Path) -> None:
    """Each page shows its own last commit date and authors (renames followed)."""
    page = html(site, "policies/password-security")
    assert meta(page, "kb:updated") == ["2025-09-15"]
    line = re.search(r'<p class="kb-updated">(.*?)</p>', page).group(1)
    assert "2025-09-15" in line and re.sub("<[^>]+>", "", line).endswith("作者：张伟、王芳、李娜")
    about = html(site, "about")
    assert meta(about, "kb:updated") == ["2025-10-01"]
    assert "作者：<span class=\"kb-authors\">赵敏、张伟</span>" in about


def test_archived_versions_at_stable_urls_with_old_text_and_banner(site: Path) -> None:
    """v1.0 and v1.1 are published under the doc_id with their own text and the banner."""
    v10 = html(site, "policies/XXZX-ZD-101/v1.0")
    body = article(v10)
    assert "口令长度不少于8位，每90天更换一次。" in body
    assert "全校各单位" not in body
    assert "历史版本 · v1.0 · 已被 v1.1 取代，现行版本为 v2.0" in body
    assert re.search(r'<a class="kb-current-link" href="../../password-security/">查看现行版本 v2.0', body)
    assert meta(v10, "kb:archived") == ["true"] and meta(v10, "kb:version") == ["1.0"]
    v11 = article(html(site, "policies/XXZX-ZD-101/v1.1"))
    assert "口令长度不少于12位，每90天更换一次。" in v11 and "已被 v2.0 取代" in v11
    assert 'href="../../../about/"' in v11  # the old repository-form link still works
    assert not (site / "policies/XXZX-ZD-101/v2.0").exists()  # the current version is the page


def test_archived_versions_are_out_of_nav_and_theme_search(site: Path) -> None:
    """No navigation entry and no entry in the theme's search index for old versions."""
    assert "XXZX-ZD-101/v1.0" not in html(site, "")
    assert "XXZX-ZD-101/v1.0" not in html(site, "policies/password-security")[:-1].split(
        'class="kb-revision-record"')[0]
    assert "XXZX-ZD-101" not in (site / "search" / "search_index.json").read_text("utf-8")


def test_diff_pages_mark_inserted_and_deleted_chinese(site: Path) -> None:
    """The comparisons mark changed characters and phrases, and collapse unchanged sections."""
    d1 = article(html(site, "policies/XXZX-ZD-101/diff/v1.0-v1.1"))
    assert "口令长度不少于<del>8</del><ins>12</ins>位" in d1
    assert '<details class="kb-diff-section kb-diff-same"><summary>第三章 附则 · 未修改' in d1
    d2 = article(html(site, "policies/XXZX-ZD-101/diff/v1.1-v2.0"))
    assert "本规定适用于<ins>全校各单位及</ins>信息中心全体员工" in d2
    assert "每<del>90</del><ins>180</ins>天" in d2
    assert re.search(r"<ins>\s*\*\*第二条之一\*\* 远程登录须启用多因素认证。</ins>", d2)
    assert "<th>版本</th><td><del>1.1</del></td><td><ins>2.0</ins></td>" in d2


def test_revision_record_links_versions_and_diffs(site: Path) -> None:
    """The 修订记录 on the current page lists every entry with links to its version and diff."""
    page = html(site, "policies/password-security")
    record = re.search(r'<section class="kb-revision-record">.*?</section>', page, re.S).group(0)
    rows = re.findall(r"<tr><td>(v[\d.]+)</td><td>([\d-]+)</td><td>(.*?)</td>", record)
    assert rows == [("v2.0", "2025-09-15", HISTORY["2.0"][1]),
                    ("v1.1", "2025-03-05", HISTORY["1.1"][1]),
                    ("v1.0", "2025-01-10", HISTORY["1.0"][1])]
    for href in ("../XXZX-ZD-101/v1.0/", "../XXZX-ZD-101/v1.1/",
                 "../XXZX-ZD-101/diff/v1.0-v1.1/", "../XXZX-ZD-101/diff/v1.1-v2.0/"):
        assert f'href="{href}"' in record
    assert "现行版本" in record


def test_home_lists_recently_updated_pages(site: Path) -> None:
    """The home marker becomes the pages by last commit date, newest first."""
    home = html(site, "")
    items = re.findall(r'<li><a href="([^"]+)">[^<]*</a> <time datetime="([\d-]+)"', home)
    assert items[:2] == [("about/", "2025-10-01"), ("policies/password-security/", "2025-09-15")]


def test_manual_versions_include_chapters(site: Path) -> None:
    """A manual's archived version has its chapters as they were; the diff covers chapters."""
    index = article(html(site, "manuals/XXZX-SC-101/v1.0"))
    assert "历史版本 · v1.0 · 已被 v1.1 取代" in index
    chapter = article(html(site, "manuals/XXZX-SC-101/v1.0/01-install"))
    assert "从服务台领取安装包。" in chapter and "安装客户端（v1.0 历史版本）" in chapter
    diff = article(html(site, "manuals/XXZX-SC-101/diff/v1.0-v1.1"))
    assert "从<del>服务台领取</del><ins>信息门户下载</ins>安装包" in diff


# --------------------------------------------------------------------------- graceful fallbacks


def test_shallow_clone_warns_and_builds_with_build_date(repo: Path, tmp_path: Path) -> None:
    """A depth-1 clone builds, says history is incomplete, and shows the build date."""
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(clone / "mkdocs.yml"),
                           "-d", str(tmp_path / "site")], capture_output=True, text=True,
                          env=build_env(), cwd=clone)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" in proc.stderr and "shallow clone: git history is incomplete" in proc.stderr
    page = (tmp_path / "site" / "policies/password-security/index.html").read_text("utf-8")
    assert meta(page, "kb:updated") == [TEST_TODAY]
    assert f"最后更新：<time datetime=\"{TEST_TODAY}\">{TEST_TODAY}</time>（构建日期；未取得 git 历史）" in page
    assert not (tmp_path / "site" / "policies/XXZX-ZD-101").exists()


def test_not_a_repository_builds_strict_with_build_date(repo: Path, tmp_path: Path) -> None:
    """A copy without .git builds strictly (no warning) and shows the build date."""
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git", ".cache"))
    build_site(copy, tmp_path / "site")
    page = (tmp_path / "site" / "about/index.html").read_text("utf-8")
    assert meta(page, "kb:updated") == [TEST_TODAY]


# --------------------------------------------------------------------------- version discipline


def kb_check_versions(repo: Path, base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kb.cli", "check-versions", "--base", base],
                          cwd=repo, capture_output=True, text=True, env=build_env())


@pytest.fixture()
def work(repo: Path, tmp_path: Path) -> Path:
    """A fresh clone of the test repository to change."""
    clone = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    return clone


def test_check_fails_when_body_changed_without_version(work: Path) -> None:
    """Changing the text but not the version names the file and what to add."""
    path = work / "policies/password-security.md"
    path.write_text(path.read_text("utf-8").replace("解释。", "解释和修订。"), "utf-8")
    proc = kb_check_versions(work, "HEAD")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "policies/password-security.md:4: version (版本): expected a version higher than 2.0" in proc.stderr
    assert 'set version: "2.1"' in proc.stderr and "add a history entry" in proc.stderr


def test_check_passes_with_new_version_and_history(work: Path) -> None:
    """A higher version with a matching history entry passes; so does an unchanged tree."""
    assert kb_check_versions(work, "HEAD").returncode == 0
    path = work / "policies/password-security.md"
    text = path.read_text("utf-8").replace('\nversion: "2.0"', '\nversion: "2.1"')
    text = text.replace("---\n# ", '  - version: "2.1"\n    date: 2025-12-01\n    summary: 文字修订\n'
                                    "    approver: 王建国\n---\n# ", 1)
    path.write_text(text.replace("解释。", "解释和修订。"), "utf-8")
    proc = kb_check_versions(work, "HEAD")
    assert proc.returncode == 0, proc.stderr


def test_check_fails_without_history_entry_and_on_lower_version(work: Path) -> None:
    """A bump without a history entry, and a version that went down, both fail."""
    path = work / "policies/password-security.md"
    original = path.read_text("utf-8")
    path.write_text(original.replace('\nversion: "2.0"', '\nversion: "2.1"'), "utf-8")
    proc = kb_check_versions(work, "HEAD")
    assert proc.returncode == 1
    assert "history (修订记录): expected an entry for the new version 2.1" in proc.stderr
    path.write_text(original.replace('\nversion: "2.0"', '\nversion: "1.2"'), "utf-8")
    proc = kb_check_versions(work, "HEAD")
    assert proc.returncode == 1
    assert "version (版本): expected a version not lower than 2.0" in proc.stderr
    assert "found 1.2" in proc.stderr


def test_check_counts_a_chapter_change_against_its_manual(work: Path) -> None:
    """Editing a chapter without raising the manual's version fails, naming the manual."""
    path = work / "manuals/vpn/01-install.md"
    path.write_text(path.read_text("utf-8").replace("下载", "获取"), "utf-8")
    proc = kb_check_versions(work, "HEAD")
    assert proc.returncode == 1
    assert "manuals/vpn/index.md:4: version (版本): expected a version higher than 1.1, because " \
           "manuals/vpn/01-install.md changed" in proc.stderr


def test_check_follows_renames_against_older_base(work: Path) -> None:
    """Against v1.1's commit the renamed file is compared with its old path and passes."""
    base = git(work, "rev-list", "-n1", "HEAD~3").strip()  # the v1.1 commit
    assert kb_check_versions(work, base).returncode == 0
    assert kb_check_versions(work, "no-such-ref").returncode == 2


# --------------------------------------------------------------------------- diff unit


def test_inline_diff_marks_words_in_english_and_characters_in_chinese() -> None:
    """English changes are whole words; a Chinese phrase change is one del and one ins."""
    assert inline_diff("must have 8 characters", "must have at least 12 characters") == \
        "must have <del>8</del><ins>at least 12</ins> characters"
    assert inline_diff("由信息中心负责", "由网络安全办公室负责") == \
        "由<del>信息中心</del><ins>网络安全办公室</ins>负责"
    sections = compare("## 甲\n\n一\n\n## 乙\n\n二\n", "## 甲\n\n一\n\n## 乙\n\n三\n")
    assert [(s.title, s.changed) for s in sections] == [("甲", False), ("乙", True)]
    assert "<details" in render(sections).split("<section")[0]


def test_metadata_changes_show_chinese_value_labels() -> None:
    """The comparison's metadata table names status and level values in Chinese."""
    from kb.content.model import CONFIDENTIALITY_LABELS, FIELD_LABELS, STATUS_LABELS
    from kb.versions.textdiff import meta_changes

    rows = meta_changes({"status": "review", "confidentiality": "public", "version": "1.0"},
                        {"status": "effective", "confidentiality": "internal", "version": "1.1"},
                        FIELD_LABELS, value_labels={"status": STATUS_LABELS,
                                                    "confidentiality": CONFIDENTIALITY_LABELS})
    assert rows == [("状态", "审核中", "现行有效"), ("密级", "公开", "内部"), ("版本", "1.0", "1.1")]


def test_check_reads_the_project_named_by_config_file(work: Path, tmp_path: Path) -> None:
    """``-f path/other.yml`` run from another folder checks that config's project."""
    path = work / "policies/password-security.md"
    path.write_text(path.read_text("utf-8").replace("解释。", "解释和修订。"), "utf-8")
    (work / "mkdocs.yml").rename(work / "kb-site.yml")  # a config not named mkdocs.yml
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "check-versions", "--base", "HEAD",
                           "-f", str(work / "kb-site.yml")], cwd=elsewhere, capture_output=True,
                          text=True, env=build_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "policies/password-security.md:4: version (版本)" in proc.stderr
