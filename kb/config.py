"""Site-level settings of our features, read from ``extra.kb`` in mkdocs.yml.

Every option is declared once here with its default and meaning; hooks and commands call
:func:`kb_settings`. Environment switches (audience, preview) are read here too, so there is one
place that says how a build is parameterised.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mkdocs.exceptions import PluginError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Level = Literal["public", "internal", "confidential"]
LEVELS: tuple[Level, ...] = ("public", "internal", "confidential")

AUDIENCE_ENV = "KB_AUDIENCE"
PREVIEW_ENV = "KB_PREVIEW"


class RootSettings(BaseModel):
    """A content root: a folder of the repository published under the same URL prefix."""

    model_config = ConfigDict(extra="forbid")
    dir: str = Field(description="folder relative to the repository (the mkdocs.yml folder)")
    type: str = Field(description="content type of its Markdown files: policy, manual, ...")
    confidentiality: Level = Field("internal", description="level of pages without one")


class KBSettings(BaseModel):
    """Options under ``extra: kb:`` in mkdocs.yml."""

    model_config = ConfigDict(extra="forbid")
    roots: list[RootSettings] = Field(
        default_factory=lambda: [
            RootSettings(dir="policies", type="policy"),
            RootSettings(dir="manuals", type="manual"),
        ],
        description="content roots outside docs/, added to the site by hooks/roots.py",
    )
    docs_confidentiality: Level = Field("internal", description="level of docs/ pages without one")
    audience_report: str = Field(
        ".cache/kb-audience/{audience}.json",
        description="build report of an audience build (restricted links, pages and files left "
                    "out), relative to mkdocs.yml; must be outside the site folder")
    doc_id_patterns: dict[str, str] = Field(
        default_factory=lambda: {"policy": r"^XXZX-ZD-\d{3}$", "manual": r"^XXZX-SC-\d{3}$"},
        description="regular expression a doc_id must match, per content type",
    )
    owners: list[str] = Field(
        default_factory=list, description="known departments; empty means any owner is accepted"
    )
    announcement_categories: list[str] = Field(
        default_factory=lambda: ["系统维护", "安全通告", "培训通知", "制度发布", "其他"],
        description="allowed values of an announcement's category",
    )
    home_announcements: int = Field(6, ge=0, description="current notices shown on the home page")
    announcements_dir: str = Field("announcements", description="notice folder inside docs/")
    announcement_page_size: int = Field(
        20, ge=1, description="notices per page of the archive (by month, by category)"
    )
    announcement_release_days: int = Field(
        30, ge=1, description="days a generated 制度发布 notice stays current (home page, feeds)"
    )
    review_warning_days: int = Field(30, ge=0, description="days before next_review to warn")
    timezone: str = Field("Asia/Shanghai", description="time zone of dates in feeds and pages")
    pdf: bool = Field(False, description="render PDFs during mkdocs build")
    pdf_cache_dir: str = Field(".cache/kb-pdf", description="PDF cache, relative to mkdocs.yml")
    pdf_workers: int = Field(0, ge=0, description="processes rendering PDFs; 0 = all cores")
    pdf_fonts: dict[str, str] = Field(
        default_factory=lambda: {"serif": "Noto Serif CJK SC", "sans": "Noto Sans CJK SC",
                                 "mono": "Noto Sans Mono CJK SC"},
        description="font families of PDFs (fontconfig names): serif body, sans headings, mono",
    )
    popular_searches: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                            max_length=40)]] = Field(
        default_factory=list, max_length=12,
        description="searches offered on the results page when nothing is found")
    helpdesk: str = Field(
        "", max_length=200,
        description="how to reach the helpdesk, shown when a search finds nothing "
                    "(e.g. 信息中心服务台：电话 8000)")
    pdf_only: list[str] = Field(
        default_factory=list, description="render only the PDFs of these source paths (kb pdf)")
    pdf_paper: Literal["A4", "A5"] = Field("A4", description="paper size of PDFs (kb pdf --paper)")
    pdf_copy_number: int | None = Field(
        None, ge=1, description="number the copy (第 N 份) on the cover and watermark of "
                                "non-public PDFs (kb pdf --copy-number)")
    pdf_draft: bool = Field(
        False, description="mark every page 征求意见稿 (review copies, kb pdf --draft)")
    pdf_uncontrolled: str = Field(
        "打印件为非受控文件，以网站现行版本为准",
        description="line printed on every PDF page: a paper copy is not controlled")


def kb_settings(config: Mapping[str, Any]) -> KBSettings:
    """Parse ``extra.kb`` of a loaded MkDocs config; a bad option stops the build clearly."""
    raw = (config.get("extra") or {}).get("kb") or {}
    try:
        return KBSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"extra.kb.{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (found {err.get('input')!r})"
            for err in exc.errors()
        )
        raise PluginError(f"mkdocs.yml: {problems}") from None


def audience() -> Level:
    """The audience this build is for (``KB_AUDIENCE``, default ``internal``)."""
    value = os.environ.get(AUDIENCE_ENV, "").strip() or "internal"
    if value not in LEVELS:
        raise PluginError(f"{AUDIENCE_ENV}: expected one of {list(LEVELS)}, found {value!r}")
    return value  # type: ignore[return-value]


def preview() -> bool:
    """Whether drafts, documents under review and scheduled notices are shown (``KB_PREVIEW=1``)."""
    return os.environ.get(PREVIEW_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def level_rank(level: str) -> int:
    """Order of confidentiality levels: public 0 < internal 1 < confidential 2."""
    return LEVELS.index(level)  # type: ignore[arg-type]
