"""The Chinese (CJK ideograph) character class, written once for everything that needs it.

Unified ideographs, extension A and the compatibility ideographs. Used by text analysis, query
parsing, the lexicon, the theme's fallback index, text diffs and document-code scaffolding.
"""

from __future__ import annotations

import re

#: the ranges, for use inside a regular expression character class: ``rf"[{CJK}]"``
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: one Chinese character
CJK_CHAR = re.compile(f"[{CJK}]")
#: a run of Chinese characters
CJK_RUN = re.compile(f"[{CJK}]+")


def is_cjk(char: str) -> bool:
    """True when ``char`` (one character) is a Chinese character."""
    return CJK_CHAR.fullmatch(char) is not None
