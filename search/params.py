"""What the API accepts: every parameter of every endpoint declared and parsed strictly.

An endpoint declares its parameters as a tuple of :class:`Param`; :func:`parse_params` reads a
query string against it and returns the values, or raises :class:`search.web.ApiError` (JSON
400, or 414 for an over-long query string) naming the parameter, what was expected and what was
found — also as fields ``parameter``, ``expected``, ``found`` of the JSON answer. Unknown
parameters and repeated single-value parameters are refused too.

Numbers are ASCII digits only: ``str.isdigit()`` also accepts ``²``, ``①`` or ``١``, which
``int()`` then rejects or silently reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from search.web import ApiError

#: longest accepted query string (all parameters), in bytes
MAX_QUERY_STRING = 4096
#: parameters in one query string
MAX_FIELDS = 40
#: values of one repeatable parameter
MAX_VALUES = 8
#: longest accepted query, in characters (the engine cuts there too)
MAX_QUERY_CHARS = 200
#: longest tag, in characters
MAX_TAG_CHARS = 50
#: results per page: default and largest; deepest page
DEFAULT_SIZE, MAX_SIZE, MAX_PAGE = 10, 50, 100
_DIGITS = re.compile(r"[0-9]{1,6}")
_FACET = re.compile(r"[a-z_]{1,32}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, CR, LF become spaces
_TRUE = frozenset(("1", "true", "yes", "on"))
_FALSE = frozenset(("0", "false", "no", "off", ""))


def bad(name: str, expected: str, found: str, code: str = "bad_request") -> ApiError:
    """The error for one parameter value: names it, what was expected and what was found."""
    shown = repr(found[:40] + ("…" if len(found) > 40 else ""))
    return ApiError(f"parameter {name!r}: expected {expected}, found {shown}", code=code,
                    detail={"parameter": name, "expected": expected, "found": found[:40]})


# --------------------------------------------------------------------------- value parsers

Parser = Callable[[str, str], Any]  # (parameter name, raw value) -> value


def integer(low: int, high: int) -> Parser:
    """A whole number in ``low..high`` written in ASCII digits."""
    expected = f"a whole number from {low} to {high} (ASCII digits)"

    def parse(name: str, raw: str) -> int:
        if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
            raise bad(name, expected, raw)
        return int(raw)
    return parse


def flag(name: str, raw: str) -> bool:
    """``1/0``, ``true/false``, ``yes/no``, ``on/off`` (any case); empty is false."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad(name, "1 or 0 (true/false)", raw)


def text(max_chars: int) -> Parser:
    """Text of at most ``max_chars`` characters without control characters."""
    def parse(name: str, raw: str) -> str:
        if _CONTROL.search(raw):
            raise bad(name, "text without control characters", raw)
        if len(raw) > max_chars:
            raise bad(name, f"at most {max_chars} characters", raw, code="too_long")
        return raw
    return parse


def query_text(name: str, raw: str) -> str:
    """The search words: spaces collapsed, 1 to :data:`MAX_QUERY_CHARS` characters."""
    if _CONTROL.search(raw):
        raise bad(name, "a query without control characters", raw)
    q = " ".join(raw.split())
    if not q:
        raise bad(name, "the words to search for (empty query)", raw, code="empty_query")
    if len(q) > MAX_QUERY_CHARS:
        raise bad(name, f"a query of at most {MAX_QUERY_CHARS} characters (too long: {len(q)})",
                  raw, code="too_long")
    return q


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """One parameter of an endpoint: its parser, default, and whether it repeats."""

    name: str
    parse: Parser
    default: Any = None
    multi: bool = False  # repeatable: a list of distinct values, blank ones ignored
    required: bool = False


def decode_query_string(query_string: str) -> list[tuple[str, str]]:
    """The name/value pairs of a WSGI ``QUERY_STRING`` (latin-1 of the raw bytes, UTF-8)."""
    if len(query_string) > MAX_QUERY_STRING:
        raise ApiError(f"query string too long: {len(query_string)} bytes, at most "
                       f"{MAX_QUERY_STRING}", HTTPStatus.REQUEST_URI_TOO_LONG, "too_long")
    try:
        raw = query_string.encode("latin-1").decode("utf-8")
        return parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict",
                         max_num_fields=MAX_FIELDS)
    except (UnicodeError, ValueError) as exc:
        raise ApiError(f"malformed query string: {exc}") from None


def parse_params(query_string: str, params: Sequence[Param]) -> dict[str, Any]:
    """The values of ``params`` in ``query_string``; :class:`ApiError` for anything else."""
    spec = {p.name: p for p in params}
    given: dict[str, list[str]] = {}
    for name, value in decode_query_string(query_string):
        if name not in spec:
            known = ", ".join(sorted(spec)) or "none"
            raise ApiError(f"unknown parameter {name[:40]!r}; known: {known}",
                           detail={"parameter": name[:40]})
        given.setdefault(name, []).append(value)
    out: dict[str, Any] = {}
    for p in params:
        values = given.get(p.name, [])
        if p.multi:
            kept = list(dict.fromkeys(v.strip() for v in values if v.strip()))
            if len(kept) > MAX_VALUES:
                raise bad(p.name, f"at most {MAX_VALUES} values", f"{len(kept)} values")
            out[p.name] = [p.parse(p.name, v) for v in kept]
        elif len(values) > 1:
            raise ApiError(f"parameter {p.name!r} given more than once",
                           detail={"parameter": p.name})
        elif values:
            out[p.name] = p.parse(p.name, values[0])
        elif p.required:
            out[p.name] = p.parse(p.name, "")
        else:
            out[p.name] = p.default
    return out


# --------------------------------------------------------------------------- the endpoints


def facet_value(name: str, raw: str) -> str:
    """A facet value (content type, status): a lowercase ASCII word. Whether the served index
    has it is the engine's question (:func:`check_facets`), so this module needs no content model."""
    if not _FACET.fullmatch(raw):
        raise bad(name, "a lowercase word (a-z, _) of at most 32 characters", raw)
    return raw


def check_facets(params: dict[str, Any], known: Callable[[str], Iterable[str]]) -> None:
    """Refuse a ``type``/``status`` value the served index does not have (JSON 400 naming the
    values it has); ``known(field)`` lists them."""
    for name in ("type", "status"):
        values = params.get(name) or []
        if not values:
            continue
        vocabulary = sorted(known(name))
        for value in values:
            if value not in vocabulary:
                raise bad(name, f"one of {', '.join(vocabulary)}", value)


SEARCH_PARAMS: tuple[Param, ...] = (
    Param("q", query_text, required=True),
    Param("type", facet_value, multi=True),
    Param("tag", text(MAX_TAG_CHARS), multi=True),
    Param("status", facet_value, multi=True),
    Param("archived", flag, False),
    Param("page", integer(1, MAX_PAGE), 1),
    Param("size", integer(1, MAX_SIZE), DEFAULT_SIZE),
    Param("live", flag, False),
)
HEALTH_PARAMS: tuple[Param, ...] = ()
