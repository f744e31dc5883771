"""2-up booklet imposition (``kb pdf --booklet``): the pages of a PDF (A5) laid two per side of
A4 landscape sheets in saddle-stitch order, so the printed stack, folded in the middle, reads in
order. Pages are padded to a multiple of four with blank ones; larger pages are scaled down.
"""

from __future__ import annotations

from pathlib import Path

#: A4 landscape in PDF points
SHEET = (841.89, 595.28)


def booklet_order(count: int) -> list[tuple[int | None, int | None]]:
    """The (left, right) page indices of each sheet side, ``None`` for a blank; ``count`` pages
    padded to a multiple of four. Side 1 of sheet 1 carries the last and the first page."""
    total = -(-count // 4) * 4

    def page(index: int) -> int | None:
        return index if index < count else None

    sides: list[tuple[int | None, int | None]] = []
    for sheet in range(total // 4):
        sides.append((page(total - 1 - 2 * sheet), page(2 * sheet)))
        sides.append((page(2 * sheet + 1), page(total - 2 - 2 * sheet)))
    return sides


def impose(source: Path, dest: Path) -> int:
    """Write the booklet of ``source`` to ``dest``; return its number of sheet sides."""
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    reader = PdfReader(source)
    writer = PdfWriter()
    width, height = SHEET
    half = width / 2
    for left, right in booklet_order(len(reader.pages)):
        side = PageObject.create_blank_page(width=width, height=height)
        for slot, index in ((0, left), (1, right)):
            if index is None:
                continue
            page = reader.pages[index]
            box = page.mediabox
            w, h = float(box.width), float(box.height)
            scale = min(half / w, height / h, 1.0)
            x = slot * half + (half - w * scale) / 2
            y = (height - h * scale) / 2
            side.merge_transformed_page(
                page, Transformation().scale(scale, scale).translate(x, y))
        writer.add_page(side)
    if reader.metadata:
        writer.add_metadata({k: v for k, v in reader.metadata.items() if isinstance(v, str)})
    with open(dest, "wb") as handle:
        writer.write(handle)
    return len(writer.pages)
