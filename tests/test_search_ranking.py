"""Ranking rules of the search engine, each on a tiny index where the rule changes the order.

The pages are minimal Material-like HTML files indexed with :func:`search.build_index`; each test
checks the order with the rule and, where a constant switches it off, the other order without.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import search.lexicon as lexicon
import search.matching as matching
import search.engine as engine_module
import search.scoring as scoring
from search import SearchEngine, build_index
from search.matching import Lexicon, plan
from search.query import parse

PAGE = """<html><head><title>{title} - 测试</title></head><body>
<article class="md-content__inner md-typeset"><h1>{title}</h1>{body}</article></body></html>"""

PAGES = {
    # title naming the topic vs. a page that only mentions the words
    "printer-driver": ("打印机驱动", "<p>从软件中心下载安装程序。</p>"),
    "office-devices": ("办公设备登记", "<p>打印机驱动下载：打印机驱动从厂商网站下载，"
                                      "下载驱动后重启打印机。</p><p>驱动下载异常请联系服务台。</p>"),
    # generic everyday word (整个) vs. topical word (拷贝)
    "copy-folder": ("文件操作", "<p>拷贝目录时保留权限。</p><p>目录很大时拷贝较慢。</p>"),
    "project-layout": ("项目结构", "<p>整个目录的结构如下，整个项目只有一个目录。</p>"
                                   "<p>目录说明。整个流程见附录。</p>"),
    # one-character query word written as a two-character word in pages
    "usb-lost": ("移动存储介质", "<p>U盘丢失后应立即报告信息中心。</p>"),
    "usb-use": ("U盘使用规定", "<p>U盘须登记后使用，U盘不得存放涉密文件。</p>"),
    # Windows versions as staff shorten them
    "win10-retire": ("Windows 10 停止接入", "<p>Windows 10 终端明年停止接入办公网。</p>"),
    # a page answering in two sections vs. one with a single, slightly better section
    "cert-guide": ("远程办公指南", '<h2 id="a">第一步</h2><p>客户端证书导入后重启电脑。</p>'
                                  '<h2 id="b">第二步</h2><p>客户端证书到期前一个月续期。</p>'),
    "cert-note": ("常见问题", '<h2 id="a">其他</h2><p>客户端证书导入后重启。</p>'),
    # first paragraph (the page's description) naming the query vs. body repeating it
    "proxy-setup": ("浏览器选项", "<p>配置代理服务器的方法。</p><p>打开浏览器选项页，填写地址和端口，"
                                 "保存后关闭窗口，重新打开浏览器即可。</p>"),
    "net-misc": ("网络杂项", "<p>本页收集零散说明。</p><p>代理服务器地址变更后重新配置，"
                             "代理服务器配置错误时无法上网，代理服务器配置见附件，代理服务器由网络组维护。</p>"),
    "filler-1": ("会议纪要", "<p>会议纪要由综合办公室整理，每次会议后发布。</p>"),
    "filler-2": ("值班安排", "<p>节假日值班安排另行通知，值班人员保持电话畅通。</p>"),
}


def tiny_engine(root: Path, pages: dict[str, tuple[str, str]]) -> SearchEngine:
    """Write ``pages`` (name: (title, body HTML)) under ``root/site`` and index them."""
    site = root / "site"
    for name, (title, body) in pages.items():
        (site / name).mkdir(parents=True)
        (site / name / "index.html").write_text(PAGE.format(title=title, body=body),
                                                encoding="utf-8")
    build_index(site, cache_dir=root / "cache", procs=1)
    return SearchEngine(site)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    """A tiny index of the pages above (no MkDocs build needed)."""
    return tiny_engine(tmp_path_factory.mktemp("ranking"), PAGES)


def first(engine: SearchEngine, query: str) -> str:
    return engine.search(query).hits[0]["page"].strip("/")


def test_title_naming_the_query_ranks_first(engine: SearchEngine, monkeypatch):
    """A page whose title names the query beats one that repeats the words in its body."""
    assert first(engine, "驱动 打印机 下载") == "printer-driver"
    monkeypatch.setattr(scoring, "TITLE_BONUS", 0.0)
    assert first(engine, "驱动 打印机 下载") == "office-devices"


def test_everyday_words_weigh_less_than_topic_words(engine: SearchEngine, monkeypatch):
    """整个 (common in any Chinese text) counts less than 拷贝, however rare it is on the site."""
    assert lexicon.topicality("整个") < 0.7 < lexicon.topicality("拷贝") == 1.0
    assert first(engine, "拷贝整个目录") == "copy-folder"
    monkeypatch.setattr(lexicon, "GENERIC_WEIGHT", 1.0)
    monkeypatch.setattr(lexicon, "COMMON_INFO", 0.0)
    assert first(engine, "拷贝整个目录") == "project-layout"


def test_one_character_word_finds_its_two_character_form(engine: SearchEngine, monkeypatch):
    """丢 also searches the indexed words containing it (丢失), below the typed word."""
    assert first(engine, "U盘丢了") == "usb-lost"
    monkeypatch.setattr(matching, "CHAR_WORDS", 0)
    assert first(engine, "U盘丢了") == "usb-use"


def test_filler_phrase_is_not_split_into_words():
    """怎么办 is a stop word as a whole: it is not cut into 怎么 + 办 and searched for 办."""
    p = plan(parse("U盘丢了怎么办"), Lexicon({}), lambda w: 0, lambda w: [])
    assert [c.surface for c in p.concepts] == ["u盘", "丢"]


def test_windows_version_shorthand(engine: SearchEngine):
    """win10 finds the page about Windows 10 (writers' synonyms file)."""
    assert first(engine, "win10 还能用吗") == "win10-retire"


def test_page_answering_in_several_sections_ranks_first(engine: SearchEngine, monkeypatch):
    """Page evidence adds up over sections (damped): two matching sections beat one."""
    assert first(engine, "客户端证书") == "cert-guide"
    monkeypatch.setattr(engine_module, "SECTION_DAMP", 0.0)
    assert first(engine, "客户端证书") == "cert-note"


def test_first_paragraph_naming_the_query_ranks_first(engine: SearchEngine, monkeypatch):
    """A page whose first paragraph (its description) names the query beats body mentions."""
    assert first(engine, "代理服务器 配置") == "proxy-setup"
    monkeypatch.setattr(scoring, "LEAD_NAMES", 0.0)
    assert first(engine, "代理服务器 配置") == "net-misc"


BOILERPLATE = "更多说明见服务台知识库。"
#: most pages end their description with the same boilerplate line (like tldr's "更多信息：<url>")
COMMON_PAGES = {
    "nic-driver": ("网卡驱动", "<p>网卡驱动的安装与更新。</p>"),
    "nic-faq": ("网络常见问题", f"<p>网卡、网线与端口的常见问题。{BOILERPLATE}</p>"
                                "<p>网卡指示灯不亮时检查网线。</p>"),
    "minutes": ("会议纪要", f"<p>会议纪要由办公室整理。{BOILERPLATE}</p>"),
    "duty": ("值班安排", f"<p>节假日值班另行通知。{BOILERPLATE}</p>"),
    "printer": ("打印机", f"<p>打印机使用说明。{BOILERPLATE}</p>"),
    "mailbox": ("邮箱", f"<p>邮箱容量说明。{BOILERPLATE}</p>"),
}


@pytest.fixture(scope="module")
def boilerplate_engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    """A tiny index where 知识库 is on five pages of six (a boilerplate line)."""
    return tiny_engine(tmp_path_factory.mktemp("common"), COMMON_PAGES)


def test_word_on_most_pages_neither_names_nor_covers(boilerplate_engine: SearchEngine,
                                                     monkeypatch):
    """知识库 on most pages (boilerplate) earns little coverage or naming: the page titled 网卡
    beats the one whose first paragraph has 网卡 and the boilerplate 知识库."""
    assert scoring.common_factor(0.3) == 1.0 > scoring.common_factor(5 / 6)
    assert first(boilerplate_engine, "网卡 知识库") == "nic-driver"
    monkeypatch.setattr(scoring, "COMMON_SHARE", 1.0)
    assert first(boilerplate_engine, "网卡 知识库") == "nic-faq"


def test_synonym_key_keeps_its_everyday_weight():
    """Listing an everyday word in the synonyms file (时间) does not give it a topic word's weight."""
    assert "时间" in lexicon.synonyms()
    p = plan(parse("防火墙 时间"), Lexicon({}), lambda w: 0, lambda w: [])
    weights = {c.surface: c.weight for c in p.concepts}
    assert weights["时间"] == lexicon.topicality("时间") < 0.7 < weights["防火墙"]


def test_writers_keywords_name_the_page(tmp_path: Path):
    """``keywords`` front matter (``<meta name="kb:keywords">``) names the page like a second
    title: a page listing 找回密码 beats one whose body mentions the words."""
    site = tmp_path / "site"
    pages = {
        "account": ("统一身份认证", '<meta name="kb:keywords" content="找回密码,忘记口令">',
                    "<p>门户账号的开通与注销。</p><p>登录门户后可自助修改资料。</p>"),
        "backup": ("数据恢复", "", "<p>误删文件的处理办法。</p><p>找回文件时先确认密码箱的"
                                   "位置，再找回备份，密码由管理员保管。</p>"),
        "misc": ("值班安排", "", "<p>节假日值班另行通知。</p>"),
    }
    for name, (title, head, body) in pages.items():
        (site / name).mkdir(parents=True)
        html = PAGE.format(title=title, body=body).replace("<head>", "<head>" + head)
        (site / name / "index.html").write_text(html, encoding="utf-8")
    build_index(site, cache_dir=tmp_path / "cache", procs=1)
    engine = SearchEngine(site)
    assert first(engine, "找回密码") == "account"
    (site / "account" / "index.html").write_text(
        PAGE.format(title="统一身份认证", body=pages["account"][2]), encoding="utf-8")
    build_index(site, cache_dir=tmp_path / "cache", procs=1)
    engine.close()
    assert first(engine, "找回密码") == "backup"  # without the keywords the body mention wins
