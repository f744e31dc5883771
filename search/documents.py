"""Turn one built page into the Whoosh documents of its sections (pure function, run in workers)."""

from __future__ import annotations

import re

from search.analysis import (
    Token,
    analyze,
    has_cjk,
    normalize,
    pinyin_terms,
    postings,
    runs,
)
from search.extract import Page, parse_page

#: stored section text is cut here (snippets need the start of long sections only)
MAX_STORED = 20000
_ALPHA = re.compile(r"[a-z]{3,}")
TRUE = frozenset(("1", "true", "yes", "on", "是"))


def _concat(*streams: list[Token]) -> list[Token]:
    """Join token streams, leaving a gap so no phrase spans two of them."""
    out: list[Token] = []
    base = 0
    for stream in streams:
        if not stream:
            continue
        out.extend((t, p + base) for t, p in stream)
        base = out[-1][1] + 16
    return out


def _spell_terms(*texts: str) -> list[Token]:
    words: set[str] = set()
    for text in texts:
        for is_cjk, run in runs(normalize(text)):
            if not is_cjk:
                words.update(_ALPHA.findall(run))
    return [(w, 0) for w in sorted(words)]


def meta_values(meta: dict[str, str]) -> dict[str, str]:
    """The page's kb: metadata as stored and filtered on (type/status/tags normalised)."""
    out = {k: (meta.get(k) or "").strip() for k in ("doc_id", "version", "confidentiality",
                                                   "updated")}
    out["type"] = (meta.get("type") or "").strip().lower()
    out["status"] = (meta.get("status") or "").strip().lower()
    tags = [t.strip() for t in re.split(r"[,，;；]", meta.get("tags") or "") if t.strip()]
    out["tags"] = ",".join(tags)
    archived = (meta.get("archived") or "").strip().lower() in TRUE or out["status"] == "archived"
    out["archived"] = "1" if archived else "0"
    return out


def page_code(doc_id: str, chapter: str | None) -> str:
    """The code that names the page: its ``doc_id``, for a manual's chapter (``kb:chapter``)
    the doc_id and the chapter number as in the chapter's PDF name (``XXZX-SC-002-02``)."""
    chapter = (chapter or "").strip()
    if doc_id and chapter.isdigit():
        return f"{doc_id}-{int(chapter):02d}"
    return doc_id


def _prose_terms(prose: str) -> tuple[list, list[Token]]:
    """The ``text`` postings and the grams of a section's prose."""
    words, grams = analyze(prose)
    return postings(words), grams


def _code_postings(code: str) -> list:
    return postings(analyze(code)[0], positions=True)


def page_documents(page: Page) -> list[dict]:
    """Whoosh ``add_document`` keyword arguments, one dict per section of ``page``."""
    title_w, title_g = analyze(page.title)
    meta = meta_values(page.meta)
    code = page_code(meta["doc_id"], page.meta.get("chapter"))
    if code:  # the document code identifies the page as much as its title
        title_w = _concat(title_w, *(analyze(c)[0] for c in dict.fromkeys((meta["doc_id"], code))))
    crumbs_text = " > ".join(page.crumbs)
    crumbs_w, _ = analyze(crumbs_text)
    if meta["tags"]:  # tags describe the topic like the breadcrumb does
        crumbs_w = _concat(crumbs_w, analyze(meta["tags"].replace(",", " "))[0])
    lead_w, _ = analyze(page.lead)
    keywords = [k.strip() for k in re.split(r"[,，]", page.meta.get("keywords") or "") if k.strip()]
    if keywords:  # the writers' search keywords name the page like other titles would
        title_w = _concat(title_w, *(analyze(k)[0] for k in keywords))
    exact = [(normalize(page.title), 0)]
    if code:  # a manual's code typed alone is its own page, not each of its chapters
        exact.append((normalize(code), 0))
    for query in (page.meta.get("best-bets") or "").split("|"):  # typed exactly: shown first
        if query.strip():
            exact.append((normalize(query.strip()), 0))
    title_py = pinyin_terms(page.title) if has_cjk(page.title) else []
    title_p, crumbs_p, exact_p = postings(title_w), postings(crumbs_w), postings(exact)
    docs = []
    for i, sec in enumerate(page.sections):
        heading = sec.heading if i else ""
        head_w, head_g = analyze(heading)
        text_p, text_g = _prose_terms(sec.prose())
        py = title_py + (pinyin_terms(heading) if heading and has_cjk(heading) else [])
        anchor = sec.anchor if i else ""
        doc = {
            "id": page.url + (f"#{anchor}" if anchor else ""),
            "page": page.url,
            "anchor": anchor,
            "level": sec.level,
            "title": title_p,
            "_stored_title": page.title,
            "heading": postings(head_w),
            "_stored_heading": heading,
            "crumbs": crumbs_p,
            "_stored_crumbs": crumbs_text,
            "text": text_p,
            "code": _code_postings(sec.code_text()),
            "gram": postings(_concat(title_g, head_g, text_g), positions=True),
            "pinyin": postings([(t, 0) for t in py]),
            "exact": exact_p,
            "content": sec.display_text()[:MAX_STORED],
            **meta,
        }
        if i == 0 and lead_w:
            doc["lead"] = postings(lead_w)
        docs.append({k: v for k, v in doc.items() if v != "" or k not in meta})
    return docs


def spell_words(page: Page) -> list[str]:
    """English words (three letters or more, not stemmed) of a page, for did-you-mean."""
    texts = [page.title] + [t for s in page.sections for t in (s.heading, s.prose(), s.code_text())]
    return [w for w, _ in _spell_terms(*texts)]


def analyze_sliced(relpath: str, sliced: str) -> tuple[list[dict], list[str]]:
    """Parse a sliced page (see :func:`search.extract.slice_page`): its documents and words."""
    page = parse_page(relpath, sliced)
    return (page_documents(page), spell_words(page)) if page else ([], [])
