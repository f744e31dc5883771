"""YAML that expands: refused in front matter, capped in ``mkdocs.yml``.

A YAML alias (``*name``) repeats the node its anchor (``&name``) marks. Nine lines of nested
aliases ("billion laughs") stand for hundreds of millions of values: PyYAML builds them as shared
objects, but whatever walks the data afterwards (key lines, validation, ``repr``) visits every
copy, and a 300-byte front matter then takes minutes and gigabytes before it ends in a bare
``MemoryError`` that hides every other error of the build.

Both checks read only the parser's event stream (linear in the text; nothing is constructed):

- :func:`front_matter_problem`: front matter is a handful of plain values, so any anchor or
  alias is refused, with its line.
- :func:`config_problem`: ``mkdocs.yml`` may share a block with an anchor, so only the size of
  the data after expansion is capped (:data:`CONFIG_MAX_VALUES`). :func:`check_config_file` is
  called by every ``kb`` command before MkDocs loads the file (MkDocs writes the whole loaded
  configuration with ``repr`` to its debug log, expanded). A plain ``mkdocs build`` loads it
  before any hook runs; CI runs ``kb check`` and ``kb publish``, which check it first.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from mkdocs.exceptions import ConfigurationError

from kb.errors import ContentError

#: values (scalars and collections, aliases counted expanded) a ``mkdocs.yml`` may hold; the
#: demo's has about 600
CONFIG_MAX_VALUES = 100_000
#: nesting reported when loading a text exceeds Python's recursion limit
MAX_DEPTH = 50
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COLLECTION_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_FRONT_HINT = "write each value out; quote text that starts with & or *"


class ExpansionError(Exception):
    """A YAML text refused for its anchors, aliases or expanded size (``line`` is 1-based)."""

    def __init__(self, line: int, expected: str, found: str, hint: str) -> None:
        super().__init__(f"{line}: expected {expected}, found {found} ({hint})")
        self.line, self.expected, self.found, self.hint = line, expected, found, hint


def _events(source: str, parser: type = _PARSER):
    """The parser's events; stops quietly at a syntax error (the loader reports it later)."""
    loader = parser(source)
    try:
        while loader.check_event():
            yield loader.get_event()
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def front_matter_problem(source: str) -> ExpansionError | None:
    """The first anchor or alias of a front matter text (line relative to the text), if any."""
    if "&" not in source and "*" not in source:
        return None  # no event can carry one: skip the second parse
    expected = "plain values (YAML anchors &name and aliases *name are not allowed in front matter)"
    for event in _events(source):
        if isinstance(event, yaml.AliasEvent):
            return ExpansionError(event.start_mark.line + 1, expected,
                                  f"alias '*{event.anchor}'", _FRONT_HINT)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            return ExpansionError(event.start_mark.line + 1, expected, f"anchor '&{anchor}'",
                                  _FRONT_HINT)
    return None


def nesting_problem(source: str, limit: int = MAX_DEPTH) -> ExpansionError:
    """Where ``source`` nests collections deeper than ``limit`` (called when loading it hit
    Python's recursion limit: the parser's events come from a state machine, not recursion)."""
    depth = 0
    for event in _events(source, yaml.SafeLoader):  # libyaml scans a flow collection whole
        if isinstance(event, _COLLECTION_START):
            depth += 1
            if depth > limit:
                return ExpansionError(event.start_mark.line + 1,
                                      f"lists and mappings nested at most {limit} deep",
                                      "deeper nesting", "flatten the value")
        elif isinstance(event, _COLLECTION_END):
            depth -= 1
    return ExpansionError(1, f"lists and mappings nested at most {limit} deep",
                          "deeper nesting", "flatten the value")


def config_problem(source: str, limit: int = CONFIG_MAX_VALUES) -> ExpansionError | None:
    """An alias that makes ``source`` hold more than ``limit`` values once expanded, if any."""
    if "*" not in source:
        return None
    sizes: dict[str, int] = {}  # anchor -> values of its node, expanded
    stack: list[list] = []  # open collections: [anchor, values so far]
    total = 0
    for event in _events(source):
        if isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor, 1)
        elif isinstance(event, _COLLECTION_START):
            stack.append([event.anchor, 1])
            total += 1
            continue
        elif isinstance(event, _COLLECTION_END):
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            if stack:
                stack[-1][1] += size
            continue
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        else:
            continue
        total += size
        if stack:
            stack[-1][1] += size
        if total > limit:
            found = f"{total:,} values"
            if isinstance(event, yaml.AliasEvent):
                found += f" once alias '*{event.anchor}' repeats its block"
            return ExpansionError(event.start_mark.line + 1,
                                  f"at most {limit:,} values after expanding YAML aliases",
                                  found, "repeat fewer or smaller blocks, or write them out")
    return None


class ExpandingConfig(ConfigurationError):
    """``mkdocs.yml`` refused before loading; ``error`` says where and what."""

    def __init__(self, error: ContentError) -> None:
        super().__init__(str(error))
        self.error = error


def check_config_file(path: str | Path) -> None:
    """Raise :class:`ExpandingConfig` when ``path`` (a ``mkdocs.yml``) expands too far."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return  # MkDocs reports an unreadable file itself
    problem = config_problem(source)
    if problem is not None:
        raise ExpandingConfig(ContentError(path.name, problem.line, None, problem.expected,
                                           problem.found, problem.hint))
