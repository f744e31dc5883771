"""Text basics shared by analysis, the lexicon and queries: the CJK character class (written
once: analysis, queries, the lexicon, the theme's fallback index, text diffs and document-code
scaffolding use it) and the normal form every text and query is compared in. Imports nothing of
ours."""

from __future__ import annotations

import re
import unicodedata

#: Chinese characters: CJK Extension A, the Unified Ideographs, Compatibility Ideographs
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def normalize(text: str) -> str:
    """NFKC (full-width to half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower().strip()
#: one Chinese character
CJK_CHAR = re.compile(f"[{CJK}]")
#: a run of Chinese characters
CJK_RUN = re.compile(f"[{CJK}]+")


def is_cjk(char: str) -> bool:
    """True when ``char`` (one character) is a Chinese character."""
    return CJK_CHAR.fullmatch(char) is not None
