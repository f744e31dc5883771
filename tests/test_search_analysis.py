"""Unit tests of search analysis (segmentation, bigrams, positions, codes, pinyin, synonyms),
query parsing, query planning and snippets."""

from __future__ import annotations

from search.analysis import (
    analyze,
    code_terms,
    pinyin_key,
    pinyin_terms,
    query_grams,
    query_words,
)
from search.extract import breadcrumb, meta_tags, page_url, parse_page, slice_page
from search.lexicon import stopwords, synonyms
from search.matching import Lexicon, cover, plan, split_unknown, units
from search.query import MAX_QUERY_CHARS, MAX_TERMS, parse
from search.snippets import highlight


def words_of(text: str) -> list[str]:
    return [t for t, _ in analyze(text)[0]]


def grams_of(text: str) -> list[tuple[str, int]]:
    return analyze(text)[1]


def test_jieba_uses_the_it_user_dictionary():
    """IT terms from search/data/userdict.txt stay one word."""
    assert "防火墙" in words_of("申请开放防火墙端口")
    assert "虚拟专用网络" in words_of("连接虚拟专用网络")


def test_long_words_also_give_their_subwords_at_the_same_position():
    """Search-mode sub-words sit at the position of the long word."""
    words = analyze("虚拟专用网络")[0]
    positions = {t: p for t, p in words}
    assert positions["虚拟专用网络"] == positions["网络"] == positions["虚拟"]


def test_bigrams_are_consecutive_and_cover_unknown_words():
    """Every CJK bigram is indexed at consecutive positions, so unknown words still match;
    a run's first and last characters are indexed too (for phrase edges)."""
    grams = sorted(grams_of("锟斤拷乱码"), key=lambda x: (x[1], len(x[0])))
    assert grams == [("锟", 0), ("锟斤", 0), ("斤拷", 1), ("拷乱", 2), ("乱码", 3), ("码", 4)]
    assert query_grams("斤拷乱") == [("斤拷", 0), ("拷乱", 1)]


def test_positions_continue_across_scripts():
    """Chinese and English tokens share one position sequence (phrases span both)."""
    grams = [g for g in grams_of("激活Windows 11系统") if len(g[0]) != 1]
    assert grams == [("激活", 0), ("window", 2), ("11", 3), ("系统", 4)]
    assert query_grams("活 windows") == [("活", 0), ("window", 1)]


def test_document_codes_stay_whole_and_in_parts():
    """``XXZX-ZD-003`` is findable whole, joined and by its parts."""
    terms = dict(code_terms("xxzx-zd-003"))
    assert terms["xxzx-zd-003"] == 0 and terms["xxzxzd003"] == 0
    assert terms["zd"] == 1 and terms["003"] == 2
    assert "802.1x" in words_of("802.1X 认证")


def test_unknown_latin_words_are_split_into_known_parts():
    """A typed word no page has becomes parts pages have: a code's known head and the rest, else
    its letter and digit runs; known words and synonym-file keys (win10) stay whole."""
    known = {"windows", "10", "xxzx-sc-002", "md5"}.__contains__
    assert split_unknown("windows10 更新", known) == "windows 10 更新"
    assert split_unknown("xxzx-sc-002-02", known) == "xxzx-sc-002 02"
    assert split_unknown("md5 vpn", known) == "md5 vpn"
    assert split_unknown("win10", lambda w: False) == "win10"
    # an unknown code is not cut into letters and digits no page has (7, f, 3 would match any 3)
    assert split_unknown("lkititle7f3a", known) == "lkititle7f3a"
    assert split_unknown("windows7f", known) == "windows7f"


def test_spellings_on_one_line_share_their_words():
    """Keys on the left of one one-way line (忘记密码, 忘了密码, 密码忘了 => …) are spellings of
    one request: 忘了密码 keeps 忘记 (of 忘记密码) as a part, not only 密码."""
    from search.lexicon import spellings

    assert {"忘记密码", "密码忘了"} <= set(spellings()["忘了密码"])
    p = plan(parse("忘了密码怎么办"), Lexicon({}), lambda w: 0, lambda w: [])
    assert {"忘记", "密码"} <= set(p.concepts[0].parts), p.concepts


def test_english_is_lowercased_and_stemmed():
    """English words are lower-cased and Porter-stemmed; codes and short words are not."""
    assert words_of("Passwords Windows") == ["password", "window"]
    assert words_of("NTP") == ["ntp"]


def test_fullwidth_text_is_normalised():
    """Full-width Latin letters and digits match their ASCII forms."""
    assert words_of("ＶＰＮ１２３") == words_of("vpn123")


def test_pinyin_full_and_initials_for_titles():
    """Titles get full pinyin and initials per word and for the whole title."""
    terms = pinyin_terms("密码管理制度")
    assert {"mima", "mm", "guanli", "mimaguanlizhidu", "mmglzd"} <= set(terms)


def test_homophone_key_ignores_tones():
    """Typos from a pinyin keyboard share the tone-less key with the intended word."""
    assert pinyin_key("进城") == pinyin_key("进程")
    assert pinyin_key("防火强") == pinyin_key("防火墙")


def test_synonym_file_groups_and_one_way_entries():
    """``a = b`` works both ways; ``a => b`` only from a."""
    syn = synonyms()
    assert "密码" in syn["口令"] and "口令" in syn["密码"]
    assert "计算机" in syn["电脑"]
    assert "虚拟专用网络" in syn["vpn"] and "vpn" in syn["虚拟专用网络"]
    assert "创建用户" in syn["开账号"] and "开账号" not in syn.get("创建用户", ())


def test_query_units_join_synonym_entries_without_splitting_words():
    """Adjacent units that form a synonym entry are joined; jieba words are never split."""
    assert ("u盘", True) in units("格式化U盘")
    assert [u for u, _ in units("测试服务器")] == ["测试", "服务器"]


def test_rare_compound_is_cut_into_dictionary_words():
    """A long word is cut into the dictionary words inside it."""
    assert cover("视频格式") == ["视频", "格式"]


def test_stopwords_are_query_filler():
    """Question words are filler, topic words are not."""
    assert {"怎么", "如何", "的"} <= stopwords()
    assert "密码" not in stopwords()


# ------------------------------------------------------------------------------ query parsing


def test_parse_phrases_exclusions_and_filters():
    """Quoted phrases, -exclusions and type:/tag:/status: filters are separated from words."""
    q = parse('"密码 有效期" 口令 -草稿 type:policy tag:安全 status:Effective')
    assert q.phrases == ["密码 有效期"]
    assert q.excluded == ["草稿"]
    assert q.filters == {"type": ["policy"], "tags": ["安全"], "status": ["effective"]}
    assert q.text == "口令"


def test_command_flags_are_text_not_exclusions():
    """``kill -9`` and ``tail -f`` search the flag; ``--long`` options too."""
    for raw in ("kill -9", "tail -f", "ls -la", "du --max-depth"):
        q = parse(raw)
        assert q.excluded == [] and q.text == raw


def test_hostile_queries_are_bounded():
    """Huge, punctuation-only, unbalanced and wildcard queries parse into small, safe parts."""
    huge = parse("密码" * 5000)
    assert len(huge.text) <= MAX_QUERY_CHARS
    assert parse("!!!???***~~~（）【】").empty
    unbalanced = parse('"密码 有效期')
    assert unbalanced.phrases == [] and "密码" in unbalanced.text
    assert parse("*ssh ?ssh").prefixes == []
    assert parse("pass*").prefixes == ["pass"]
    many = parse(" ".join(f'"w{i}"' for i in range(100)))
    assert len(many.phrases) <= MAX_TERMS
    assert "~" not in parse("passwrd~10").text


def test_plan_builds_concepts_with_synonyms_and_repairs():
    """Planning drops filler words, adds synonyms and repairs homophone typos."""
    lex = Lexicon({"homophones": {pinyin_key("防火墙"): [["防火墙", 12]]},
                   "spell": {"password": 30}})
    known = {"防火墙": 12, "端口": 40, "password": 30}
    p = plan(parse("怎么开放防火强端口"), lex, lambda w: known.get(w, 0), lambda _: [])
    surfaces = [c.surface for c in p.concepts]
    assert "怎么" not in surfaces and "端口" in surfaces
    repaired = [c for c in p.concepts if c.surface == "防火强"][0]
    assert "防火墙" in [a.text for a in repaired.alternatives]
    p2 = plan(parse("passwrd"), lex, lambda w: known.get(w, 0), lambda _: [])
    assert p2.suggestion == "password"


def test_repeated_words_make_one_concept():
    """A word typed many times (or pasted 5,000 times) is searched once."""
    p = plan(parse("密码 " * 30 + "口令 密码"), Lexicon({}), lambda w: 1, lambda _: [])
    assert [c.surface for c in p.concepts] == ["密码", "口令"]


def test_query_words_of_mixed_text():
    """Mixed Chinese/English queries give Chinese words and English stems."""
    assert query_words("激活 Windows 11") == ["激活", "window", "11"]


# ------------------------------------------------------------------------------ extraction

PAGE = """<html><head><title>密码 - 测试站</title>
<meta name="kb:type" content="policy"><meta name="kb:doc_id" content="XXZX-ZD-003">
</head><body>
<nav class="md-nav md-nav--primary"><ul>
<li class="md-nav__item md-nav__item--active md-nav__item--nested">
<label class="md-nav__link"><span class="md-ellipsis"> 制度 </span></label>
<li class="md-nav__item md-nav__item--active"><a class="md-nav__link md-nav__link--active">
<span class="md-ellipsis"> 密码 </span></a></li></ul></nav>
<article class="md-content__inner md-typeset">
<h1 id="mima">密码<a class="headerlink" href="#mima">¶</a></h1>
<p>口令要求。</p>
<h2 id="youxiaoqi">有效期</h2><p>每 90 天更换。</p><pre><code>chage -M 90</code></pre>
<h3 id="x">脚本</h3><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>
<script>var leaked = 1;</script>
</article></body></html>"""


def test_extract_material_page_sections_meta_and_breadcrumb():
    """Sections by h1/h2/h3 with anchors, code apart, kb: meta, breadcrumb, no script text."""
    page = parse_page("policies/mima/index.html", slice_page(PAGE))
    assert page.url == "policies/mima/" and page.title == "密码"
    assert page.crumbs == ["制度"]
    assert page.meta == {"type": "policy", "doc_id": "XXZX-ZD-003"}
    assert [(s.anchor, s.heading, s.level) for s in page.sections] == [
        ("", "密码", 1), ("youxiaoqi", "有效期", 2), ("x", "脚本", 3)]
    assert page.sections[1].code_text() == "chage -M 90"
    assert "¶" not in page.sections[0].display_text()
    assert "leaked" not in page.sections[2].display_text()
    assert "<script>alert(1)</script>" in page.sections[2].prose()


def test_page_without_article_is_skipped():
    """Pages that are not Material content pages (redirects, assets) give nothing."""
    assert slice_page("<html><body>redirect</body></html>") is None


def test_helpers_urls_meta_and_breadcrumb():
    """Site-relative page URLs, kb: meta with entities, empty breadcrumb without nav."""
    assert page_url("index.html") == "" and page_url("a/b/index.html") == "a/b/"
    assert page_url("a/b.html") == "a/b.html"
    assert meta_tags('<meta content="a &amp; b" name="kb:tags">') == {"tags": "a & b"}
    assert breadcrumb("<div></div>") == []


# ------------------------------------------------------------------------------ snippets


def test_snippet_escapes_everything_but_mark():
    """Page text is HTML-escaped; only <mark> is markup."""
    out = highlight("注意 <script>alert(1)</script> 密码 有效期", ["密码"])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<mark>密码</mark>" in out


def test_snippet_picks_the_window_with_most_terms():
    """The window with the most distinct query terms is shown, cut with ellipses."""
    text = "无关内容。" * 60 + "口令有效期为九十天，到期前提醒。" + "其他内容。" * 60
    out = highlight(text, ["口令", "有效期"], width=60)
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>口令</mark><mark>有效期</mark>" in out


def test_snippet_matches_english_stems_case_insensitively():
    """An English query stem highlights the full word in any case."""
    assert "<mark>Passwords</mark>" in highlight("Reset Passwords here", ["password"])


WORD_TABLE_PROBE = """
import json, sys
from search import lexicon
from search.analysis import cut
used = lexicon.use_word_table()
texts = json.loads(sys.stdin.read())
print(json.dumps({"used": used, "cuts": [cut(t) for t in texts],
                  "topicality": [lexicon.topicality(w) for w in ("一次", "防火墙", "内容")]}))
"""


def test_one_off_search_cuts_like_the_whole_dictionary(tmp_path) -> None:
    """A one-off search looks words up in the SQLite word table instead of loading jieba's
    dictionary: the first process writes the table, the next uses it, with the same cuts and
    weights as the whole dictionary."""
    import json
    import os
    import subprocess
    import sys

    from search.analysis import cut
    from search.lexicon import topicality

    texts = ["忘记密码怎么办", "英寸换算成厘米", "内网穿透", "批量管理多台服务器", "防火强设置",
             "U盘丢了怎么办", "开会投屏时别让mac自动睡眠"]
    env = {**os.environ, "KB_SEARCH_CACHE": str(tmp_path)}
    runs = [json.loads(subprocess.run([sys.executable, "-c", WORD_TABLE_PROBE], env=env,
                                      input=json.dumps(texts), capture_output=True, text=True,
                                      check=True).stdout) for _ in range(2)]
    assert [r["used"] for r in runs] == [False, True]  # the first writes it, the second uses it
    assert list(tmp_path.glob("jieba-words-*.sqlite"))
    expected = [cut(t) for t in texts]
    weights = [topicality(w) for w in ("一次", "防火墙", "内容")]
    for r in runs:
        assert r["cuts"] == expected
        assert r["topicality"] == weights
