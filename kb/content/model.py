"""The content model: front matter of every content type, declared once.

Validation (``kb check`` and the build), page rendering (document-control block), registers,
announcements, PDFs and search metadata all read these classes; none re-declares a field list.
Keys are English in the file; :data:`FIELD_LABELS` gives the Chinese label shown on pages.

:func:`parse_front_matter` reads a Markdown file's YAML front matter keeping the line of every
key, and :func:`validate_meta` turns pydantic's errors into :class:`kb.errors.ContentError` rows
that name the file, line, field, what was expected and what was found.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, ValidationError,
                      create_model, field_validator, model_validator)

from kb.errors import ContentError
from kb.content.yamlguard import front_matter_problem, nesting_problem

# --------------------------------------------------------------------------- vocabularies


class Status(str, Enum):
    """Lifecycle of a controlled document."""

    draft = "draft"
    review = "review"
    effective = "effective"
    superseded = "superseded"
    retired = "retired"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.value]

    @property
    def published(self) -> bool:
        """Shown on the staff site without the preview switch."""
        return self not in (Status.draft, Status.review)


STATUS_LABELS: dict[str, str] = {
    "draft": "草稿",
    "review": "审核中",
    "effective": "现行有效",
    "superseded": "已被替代",
    "retired": "已废止",
}

Confidentiality = Literal["public", "internal", "confidential"]
CONFIDENTIALITY_LABELS: dict[str, str] = {"public": "公开", "internal": "内部", "confidential": "机密"}

#: Chinese labels of ``acknowledge`` values (阅知确认)
ACKNOWLEDGE_LABELS: dict[str, str] = {"required": "必须确认"}

#: Chinese labels of front-matter keys, as shown on pages, registers and PDFs
FIELD_LABELS: dict[str, str] = {
    "doc_id": "文件编号",
    "title": "标题",
    "version": "版本",
    "status": "状态",
    "owner": "归口部门",
    "author": "编制",
    "reviewer": "审核",
    "approver": "批准",
    "effective_date": "生效日期",
    "review_months": "复审周期（月）",
    "next_review": "下次复审",
    "confidentiality": "密级",
    "tags": "标签",
    "supersedes": "替代",
    "superseded_by": "被替代为",
    "history": "修订记录",
    "chapter": "章节",
    "course_code": "课程编号",
    "duration": "学时",
    "audience": "培训对象",
    "objectives": "培训目标",
    "prerequisites": "先修要求",
    "trainer": "讲师",
    "sessions": "近期开班",
    "date": "发布日期",
    "category": "类别",
    "expires": "有效期至",
    "pinned": "置顶",
    "summary": "摘要",
    "keywords": "搜索关键词",
    "announce": "生成发布通知",
    "acknowledge": "阅知确认",
    "acknowledge_groups": "确认范围",
    "acknowledge_days": "确认期限（天）",
}

#: Chinese labels of the values of the fields that take one of a few words, by field: what
#: pages (comparisons) show for ``effective``, ``internal``, ``required``
VALUE_LABELS: dict[str, dict[str, str]] = {
    "status": STATUS_LABELS, "confidentiality": CONFIDENTIALITY_LABELS,
    "acknowledge": ACKNOWLEDGE_LABELS,
}

#: keys Material for MkDocs itself understands; allowed on every page
PRESENTATION_KEYS: frozenset[str] = frozenset(
    {"hide", "description", "icon", "template", "search", "subtitle", "comments"}
)

VERSION_RE = re.compile(r"^\d+\.\d+$")

#: marks a field whose value names another document by its ``doc_id`` (``supersedes``, …):
#: where the named document is not in a build, pages show it restricted (kb.documents.control.doc_link)
REFERENCE: dict[str, Any] = {"kb_reference": True}


def reference_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` that name another document (marked with :data:`REFERENCE`)."""
    return tuple(name for name, info in model.model_fields.items()
                 if isinstance(info.json_schema_extra, dict)
                 and info.json_schema_extra.get("kb_reference"))


def version_key(version: str) -> tuple[int, int]:
    """Sort key of a ``MAJOR.MINOR`` version: ``"2.10"`` sorts after ``"2.9"``."""
    major, minor = version.split(".")
    return int(major), int(minor)


def add_months(day: _dt.date, months: int) -> _dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- models


class _Strict(BaseModel):
    """Unknown keys are errors; blank strings are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _reject_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("a non-empty value")
        return value


#: one search keyword: a word or short phrase, no commas (they separate keywords in meta tags)
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30,
                                           pattern=r"^[^,，;；]+$")]


class _Meta(_Strict):
    """Base of all front-matter models: Material's presentation keys are allowed too."""

    #: content type name, as in ``<meta name="kb:type">`` and the search ``type:`` filter
    type_name: ClassVar[str] = "page"

    hide: list[str] | None = None
    description: str | None = None
    icon: str | None = None
    template: str | None = None
    search: dict[str, Any] | None = None
    subtitle: str | None = None
    comments: bool | None = None
    #: words staff search for that the page does not use (aliases, old names, colloquial
    #: terms); search weighs them like the page's title
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)


def _check_version(value: Any) -> Any:
    if isinstance(value, (int, float)):
        raise ValueError(f'a quoted "MAJOR.MINOR" string such as "{value}"')
    if not isinstance(value, str) or not VERSION_RE.match(value):
        raise ValueError("a version MAJOR.MINOR such as 1.0 or 2.3")
    return value


class HistoryEntry(_Strict):
    """One row of a controlled document's revision record (修订记录)."""

    version: str
    date: _dt.date
    summary: str
    approver: str | None = None

    _v = field_validator("version", mode="before")(_check_version)


class ControlledMeta(_Meta):
    """Identification, version, approval and review data of a controlled document (ISO 9001 7.5)."""

    type_name: ClassVar[str] = "controlled"

    doc_id: str
    title: str
    version: str
    status: Status
    owner: str | None = None
    author: str | None = None
    reviewer: str | None = None
    approver: str | None = None
    effective_date: _dt.date | None = None
    review_months: int | None = Field(None, ge=1, le=120)
    next_review: _dt.date | None = None
    confidentiality: Confidentiality | None = None
    tags: list[str] = Field(default_factory=list)
    supersedes: str | None = Field(None, json_schema_extra=REFERENCE)
    superseded_by: str | None = Field(None, json_schema_extra=REFERENCE)
    history: list[HistoryEntry] = Field(default_factory=list)
    announce: bool = False

    _v = field_validator("version", mode="before")(_check_version)

    @model_validator(mode="after")
    def _required_per_status(self) -> ControlledMeta:
        missing: list[str] = []
        if self.status in (Status.effective, Status.superseded, Status.retired):
            missing += [k for k in ("author", "reviewer", "approver", "effective_date")
                        if getattr(self, k) is None]
            if self.review_months is None and self.next_review is None:
                missing.append("review_months")
        elif self.status is Status.review:
            missing += [k for k in ("author", "reviewer") if getattr(self, k) is None]
        if self.status is Status.superseded and not self.superseded_by:
            missing.append("superseded_by")
        if missing:
            raise _RequiredForStatus(missing, self.status)
        if self.next_review and self.effective_date and self.next_review <= self.effective_date:
            raise _FieldProblem("next_review", f"a date after effective_date ({self.effective_date})",
                                self.next_review.isoformat())
        return self

    @property
    def review_due(self) -> _dt.date | None:
        """Date of the next periodic review: ``next_review``, else effective date + interval."""
        if self.next_review is not None:
            return self.next_review
        if self.effective_date is not None and self.review_months is not None:
            return add_months(self.effective_date, self.review_months)
        return None

    def newest_history(self) -> HistoryEntry | None:
        if not self.history:
            return None
        return max(self.history, key=lambda h: (version_key(h.version), h.date))


class PolicyMeta(ControlledMeta):
    """A policy (制度): one file in ``policies/``.

    ``acknowledge: required`` asks staff to confirm they have read each effective version
    (阅知确认, :mod:`kb.acks`): everyone, or the groups of ``acknowledge_groups``, within
    ``acknowledge_days`` of ``effective_date`` (default ``extra.kb.acknowledge_days``).
    """

    type_name: ClassVar[str] = "policy"

    acknowledge: Literal["required"] | None = None
    acknowledge_groups: list[str] = Field(default_factory=list)
    acknowledge_days: int | None = Field(None, ge=1, le=365)

    @model_validator(mode="after")
    def _acknowledge_options(self) -> PolicyMeta:
        if self.acknowledge is None:
            for name in ("acknowledge_groups", "acknowledge_days"):
                if getattr(self, name):
                    raise _FieldProblem(name, "only together with acknowledge: required",
                                        _found(getattr(self, name)))
        if len(set(self.acknowledge_groups)) != len(self.acknowledge_groups):
            raise _FieldProblem("acknowledge_groups", "each group once",
                                _found(self.acknowledge_groups))
        return self

    @property
    def acknowledge_required(self) -> bool:
        return self.acknowledge == "required"


class ManualMeta(ControlledMeta):
    """A user manual (用户手册): the ``index.md`` of a folder in ``manuals/``."""

    type_name: ClassVar[str] = "manual"


class ChapterMeta(_Meta):
    """A manual chapter: inherits identification from its manual's ``index.md``."""

    type_name: ClassVar[str] = "chapter"

    chapter: int = Field(ge=1, le=999)
    title: str
    tags: list[str] = Field(default_factory=list)
    confidentiality: Confidentiality | None = None


class CourseSession(_Strict):
    """One scheduled run of a course: its day, optionally time, place and how to enrol."""

    date: _dt.date
    time: str | None = None  # 14:00-16:00
    place: str | None = None  # 三楼培训室 / 线上会议
    note: str | None = None  # 报名方式等


class CourseMeta(_Meta):
    """A training course (培训课程) in ``docs/training/``."""

    type_name: ClassVar[str] = "course"

    course_code: str
    title: str
    duration: str
    audience: str
    objectives: list[str] = Field(min_length=1)
    prerequisites: list[str] = Field(default_factory=list)
    trainer: str
    confidentiality: Confidentiality | None = None
    tags: list[str] = Field(default_factory=list)
    #: scheduled runs; course pages show the upcoming ones (from today, kb.clock)
    sessions: list[CourseSession] = Field(default_factory=list)


class NoticeMeta(_Meta):
    """A notice (通知公告) in ``docs/announcements/``; the category list is set in mkdocs.yml."""

    type_name: ClassVar[str] = "announcement"

    title: str
    date: _dt.date
    category: str
    expires: _dt.date | None = None
    pinned: bool = False
    confidentiality: Confidentiality | None = None
    summary: str | None = None
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _expires_after_date(self) -> NoticeMeta:
        if self.expires is not None and self.date is not None and self.expires < self.date:
            raise _FieldProblem("expires", f"a date on or after date ({self.date})", str(self.expires))
        return self


class PageMeta(_Meta):
    """A plain page in ``docs/``: needs no front matter; may set its level and tags."""

    title: str | None = None
    confidentiality: Confidentiality | None = None
    tags: list[str] = Field(default_factory=list)


MODELS: dict[str, type[_Meta]] = {
    m.type_name: m for m in (PolicyMeta, ManualMeta, ChapterMeta, CourseMeta, NoticeMeta, PageMeta)
}


def search_vocabulary() -> dict[str, list[str]]:
    """Every ``kb:type`` and ``kb:status`` value :func:`kb.documents.control.meta_tags` can
    write (a chapter is type manual; a notice past its date is expired): recorded in the search
    index's build info, so the search service accepts each as a filter when no page has it."""
    types = {"manual" if name == "chapter" else name for name in MODELS}
    return {"type": sorted(types), "status": sorted([s.value for s in Status] + ["expired"])}


# --------------------------------------------------------------------------- model-level errors


class _FieldProblem(ValueError):
    """A rule across fields, reported against one field."""

    def __init__(self, field_name: str, expected: str, found: str | None):
        super().__init__(expected)
        self.field_name, self.expected, self.found = field_name, expected, found


class _RequiredForStatus(ValueError):
    def __init__(self, fields: list[str], status: Status):
        super().__init__(", ".join(fields))
        self.fields, self.status = fields, status


# --------------------------------------------------------------------------- front matter


@dataclass
class FrontMatter:
    """A Markdown file split into its front matter (with key lines) and body."""

    data: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the body's first line in the file
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """Line of the nearest key on ``path`` (``("history", 0, "version")``), else None."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


_FENCE = re.compile(r"^---[ \t]*$")


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text and the model parses them, so
    an impossible date (``2025-13-01``) is a field error, not a crash."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same with libyaml's parser (about 10x faster) for files that parse; a file that does
    not is parsed again with :class:`_Loader`, whose error messages say more."""


_Loader.yaml_implicit_resolvers = _FastLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _compose(source: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def parse_front_matter(text: str, file: str) -> tuple[FrontMatter | None, list[ContentError]]:
    """Split ``text``; return the front matter (or None if the YAML is broken) and errors."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
        return FrontMatter({}, text, 1), []
    end = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i].rstrip("\r\n"))), None)
    if end is None:
        return None, [ContentError(file, 1, None, "front matter closed by a line '---'",
                                   "no closing '---'")]
    source = "".join(lines[1:end])
    body = "".join(lines[end + 1:])
    if (bomb := front_matter_problem(source)) is not None:  # before anything expands it
        return None, [ContentError(file, bomb.line + 1, None, bomb.expected, bomb.found, bomb.hint)]
    try:
        try:
            node, data = _compose(source, _FastLoader)
        except yaml.YAMLError:
            node, data = _compose(source, _Loader)
    except RecursionError:
        deep = nesting_problem(source)
        return None, [ContentError(file, deep.line + 1, None, deep.expected, deep.found,
                                   deep.hint)]
    except yaml.YAMLError as exc:
        # the construct left unfinished (context) is where the writer erred; the parser notices
        # only later (problem), e.g. an unclosed "[" noticed on the next line
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        hint = yaml_syntax_hint(problem)
        problem = problem[len("found "):] if problem.startswith("found ") else problem
        if context is not None and context.line + 2 < line:
            problem = f"{problem} on line {line} ({exc.context} that starts here)"
            line = context.line + 2
        return None, [ContentError(file, line, None, "valid YAML front matter", problem, hint)]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [ContentError(file, 2, None, "front matter of 'key: value' lines",
                                   type(data).__name__)]
    key_lines: dict[tuple[str | int, ...], int] = {(): 2}
    _collect_lines(node, (), key_lines)
    return FrontMatter(data, body, end + 2, key_lines), []


def yaml_syntax_hint(problem: str) -> str:
    """What to do about a YAML syntax error, by PyYAML's ``problem`` text."""
    if "'\\t'" in problem or "\t" in problem or "tab character" in problem:
        return "YAML does not allow tabs; indent with spaces"
    if "mapping values are not allowed" in problem:
        return "one 'key: value' per line; quote a value that contains ': ', e.g. title: \"A: B\""
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "close the [ or { of the list on that line, or quote a value that starts with [ or {"
    if "found unexpected end of stream" in problem or "quoted scalar" in problem:
        return "close the quote opened on that line"
    if "found character" in problem and "cannot start any token" in problem:
        return "quote a value that starts with a special character (@ ` % | > etc.)"
    return ("fix the YAML syntax on that line: 'key: value' lines indented with spaces; "
            "quote values that contain : # [ ] { }")


def _collect_lines(node: yaml.Node | None, path: tuple[str | int, ...],
                   out: dict[tuple[str | int, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, key_node.value)
            out[key_path] = key_node.start_mark.line + 2  # +1 for 1-based, +1 for the '---'
            _collect_lines(value_node, key_path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            out[item_path] = item.start_mark.line + 2
            _collect_lines(item, item_path, out)


def validate_meta(model: type[_Meta], front: FrontMatter, file: str,
                  data: dict[str, Any] | None = None) -> tuple[_Meta | None, list[ContentError]]:
    """Validate front matter against ``model``; return the instance or the errors."""
    data = front.data if data is None else data
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors: list[ContentError] = []
        for err in exc.errors():
            errors += _to_content_errors(err, model, front, file)
        failed = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        if failed and all(err["loc"] for err in exc.errors()):  # the rules did not run
            errors += _rule_errors(model, front, file, data, failed)
        return None, errors


@lru_cache(maxsize=None)
def _lenient(model: type[_Meta]) -> type[_Meta]:
    """``model`` with every required field optional: its rules across fields (required per
    status, dates in order) run on whatever fields are valid."""
    optional: dict[str, Any] = {name: (info.annotation | None, None)
                                for name, info in model.model_fields.items() if info.is_required()}
    return create_model(f"Lenient{model.__name__}", __base__=model, **optional)


def _rule_errors(model: type[_Meta], front: FrontMatter, file: str, data: dict[str, Any],
                 failed: set[str]) -> list[ContentError]:
    """The model's rules across fields checked on the fields that passed, when pydantic stopped
    before them because other fields failed: each independent error is reported in one run.
    Rules about a field that already failed are left out (one error per mistake)."""
    try:
        _lenient(model).model_validate({k: v for k, v in data.items() if k not in failed})
        return []
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, _RequiredForStatus):
                cause.fields = [f for f in cause.fields if f not in failed]
            elif not isinstance(cause, _FieldProblem) or cause.field_name in failed:
                continue
            out += _to_content_errors(err, model, front, file)
        return out
    except TypeError:  # a rule that needs a field that failed
        return []


def _found(value: Any) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def field_name(loc: tuple[str | int, ...]) -> str:
    """``history[0].version`` style name of a key path, with its Chinese label: ``doc_id (文件编号)``."""
    name = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
    label = FIELD_LABELS.get(str(loc[0])) if loc else None
    return f"{name} ({label})" if label else name


def _to_content_errors(err: Any, model: type[_Meta], front: FrontMatter,
                       file: str) -> list[ContentError]:
    """One pydantic error as content errors: a status rule yields one error per missing field,
    each on the line of ``status`` (the key that makes the field required)."""
    cause = (err.get("ctx") or {}).get("error")
    if not isinstance(cause, _RequiredForStatus):
        return [_to_content_error(err, model, front, file)]
    line = front.line_of(("status",))
    out = []
    for name in cause.fields:
        expected = f"a value: required when status is {cause.status.value}"
        if name == "review_months":
            expected = f"review_months or next_review: required when status is {cause.status.value}"
        out.append(ContentError(file, line, field_name((name,)), expected, "nothing"))
    return out


def _to_content_error(err: Any, model: type[_Meta], front: FrontMatter, file: str) -> ContentError:
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, _FieldProblem):
        return ContentError(file, front.line_of((cause.field_name,)),
                            field_name((cause.field_name,)), cause.expected, cause.found)
    line = front.line_of(loc)
    found = _found(err.get("input"))
    if kind == "missing":
        return ContentError(file, line, field_name(loc), "a value (required)", "nothing")
    if kind == "extra_forbidden":
        known = sorted(set(model.model_fields) - PRESENTATION_KEYS)
        return ContentError(file, line, field_name(loc),
                            f"one of the known keys: {', '.join(known)}",
                            f"unknown key {str(loc[-1])!r}", hint="check the spelling")
    if kind in ("enum", "literal_error"):
        expected = f"one of {ctx.get('expected', '')}".replace("'", "")
    elif kind.startswith("date") or kind.startswith("datetime"):
        expected = "a date YYYY-MM-DD"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        expected = "a whole number"
    elif kind in ("greater_than_equal", "less_than_equal"):
        expected = err["msg"].replace("Input should be ", "a number ")
    elif kind in ("list_type",):
        expected = "a list"
    elif loc[:1] == ("keywords",) and kind.startswith("string_"):
        expected = "one search keyword per list item (1-30 characters, no commas or semicolons)"
    elif loc == ("keywords",) and kind == "too_long":
        expected = "at most 20 search keywords"
    elif kind in ("bool_parsing", "bool_type"):
        expected = "true or false"
    elif kind in ("string_type",):
        expected = "text"
    elif kind == "too_short":
        expected = "at least one entry"
    elif kind == "value_error":
        expected = str(cause) if cause is not None else err["msg"]
    else:
        expected = err["msg"]
    return ContentError(file, line, field_name(loc), expected, found)
