"""Text basics shared by analysis, the lexicon and queries: the CJK character class and the
normal form every text and query is compared in. Imports nothing of ours."""

from __future__ import annotations

import unicodedata

#: Chinese characters: CJK Extension A, the Unified Ideographs, Compatibility Ideographs
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def normalize(text: str) -> str:
    """NFKC (full-width to half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower().strip()
