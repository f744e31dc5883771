"""RSS 2.0 and Atom 1.0 feeds of the current notices, written with the standard library.

One pair for all current notices (``announcements/feed.xml``, ``announcements/atom.xml``) and one
pair per category (``announcements/category/<slug>/feed.xml`` …), every category even when empty
so a subscription never breaks. Links are absolute from ``site_url``; a notice's date is midnight
in the site's time zone (``extra.kb.timezone``); the feed's own date is its newest item's, so the
same content gives byte-identical feeds.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, urljoin
from zoneinfo import ZoneInfo

from kb.notices.catalog import Notices, Notice

ATOM_NS = "http://www.w3.org/2005/Atom"
ET.register_namespace("atom", ATOM_NS)


@dataclass(frozen=True)
class Channel:
    """What a feed says about itself."""

    title: str
    description: str
    site_url: str  # ends with "/"
    page_path: str  # HTML page the feed belongs to, relative to the site root
    rss_path: str
    atom_path: str
    author: str
    tz: ZoneInfo
    language: str = "zh-CN"

    def absolute(self, path: str) -> str:
        return urljoin(self.site_url, quote(path, safe="/#?=&%"))


def moment(day: _dt.date, tz: ZoneInfo) -> _dt.datetime:
    """A date as midnight in the site's time zone."""
    return _dt.datetime.combine(day, _dt.time(0, 0), tzinfo=tz)


def _updated(items: Sequence[Notice], tz: ZoneInfo, today: _dt.date) -> _dt.datetime:
    return moment(max((n.meta.date for n in items), default=today), tz)


def rss(channel: Channel, items: Sequence[Notice], descriptions: Mapping[str, str],
        today: _dt.date) -> bytes:
    """An RSS 2.0 document of ``items`` (newest first)."""
    root = ET.Element("rss", {"version": "2.0"})
    ch = ET.SubElement(root, "channel")
    _text(ch, "title", channel.title)
    _text(ch, "link", channel.absolute(channel.page_path))
    _text(ch, "description", channel.description)
    _text(ch, "language", channel.language)
    _text(ch, "lastBuildDate", format_datetime(_updated(items, channel.tz, today)))
    ET.SubElement(ch, f"{{{ATOM_NS}}}link", {"href": channel.absolute(channel.rss_path),
                                              "rel": "self", "type": "application/rss+xml"})
    for n in items:
        item = ET.SubElement(ch, "item")
        link = channel.absolute(n.url)
        _text(item, "title", n.meta.title)
        _text(item, "link", link)
        _text(item, "guid", link).set("isPermaLink", "true")
        _text(item, "pubDate", format_datetime(moment(n.meta.date, channel.tz)))
        _text(item, "category", n.meta.category)
        if text := descriptions.get(n.src_uri) or n.meta.summary:
            _text(item, "description", text)
    return _serialize(root)


def atom(channel: Channel, items: Sequence[Notice], descriptions: Mapping[str, str],
         today: _dt.date) -> bytes:
    """An Atom 1.0 document of ``items`` (newest first)."""
    # plain tag names under a default namespace declaration: <feed xmlns="…Atom">
    root = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": channel.language})
    _text(root, "title", channel.title)
    _text(root, "subtitle", channel.description)
    _text(root, "id", channel.absolute(channel.atom_path))
    _text(root, "updated", _updated(items, channel.tz, today).isoformat())
    ET.SubElement(root, "link", {"rel": "self", "type": "application/atom+xml",
                                 "href": channel.absolute(channel.atom_path)})
    ET.SubElement(root, "link", {"rel": "alternate", "type": "text/html",
                                 "href": channel.absolute(channel.page_path)})
    author = ET.SubElement(root, "author")
    _text(author, "name", channel.author)
    for n in items:
        entry = ET.SubElement(root, "entry")
        link = channel.absolute(n.url)
        stamp = moment(n.meta.date, channel.tz).isoformat()
        _text(entry, "title", n.meta.title)
        _text(entry, "id", link)
        ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html",
                                                    "href": link})
        _text(entry, "published", stamp)
        _text(entry, "updated", stamp)
        ET.SubElement(entry, "category", {"term": n.meta.category})
        if text := descriptions.get(n.src_uri) or n.meta.summary:
            _text(entry, "summary", text)
    return _serialize(root)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_feeds(anns: Notices, channels: Mapping[str | None, Channel],
                descriptions: Mapping[str, str], site_dir: str) -> list[Path]:
    """Write each channel's RSS and Atom file (key None = all notices); return the paths."""
    written = []
    for category, channel in channels.items():
        items = anns.current(category)
        for path, data in ((channel.rss_path, rss(channel, items, descriptions, anns.today)),
                           (channel.atom_path, atom(channel, items, descriptions, anns.today))):
            target = Path(site_dir, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(target)
    return written


_TAG = re.compile(r"<[^>]+>")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


def first_paragraph(page_html: str, limit: int = 200) -> str:
    """Plain text of the first paragraph of a rendered page (a feed item's description)."""
    for match in _PARAGRAPH.finditer(page_html):
        text = " ".join(_TAG.sub("", match.group(1)).split())
        if text:
            text = html.unescape(text)
            return text if len(text) <= limit else text[: limit - 1] + "…"
    return ""
