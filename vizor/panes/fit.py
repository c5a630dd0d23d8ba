"""Lines made to fit a pane's width, so that no pane scrolls sideways (the right-hand
column is ~51 cells at 120 columns): a table row too wide is folded, the columns that
do not fit going to a continuation line under the second column; a free-text column
(``overflow="fold"``) at the end of a line wraps in the room left; any other line wraps
with a two-cell hanging indent, or is cut with an ellipsis when it is ``no_wrap``."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

_CONSOLE = Console(width=400, file=io.StringIO())
MIN_FREE = 16        # a free-text column keeps a line's end only if this much room is left


def wrap(text: Text, width: int) -> list[Text]:
    """``text`` in lines of at most ``width`` cells (words kept whole where they fit)."""
    if text.cell_len <= width:
        return [text]
    lines = text.wrap(_CONSOLE, max(1, width), overflow="fold", no_wrap=False)
    out = []
    for line in lines:
        line = line.copy()
        line.rstrip()
        out.append(line)
    return out


def fit_line(text: Text, width: int) -> list[Text]:
    """One line of a pane at ``width``: as it is, cut (``no_wrap``), or wrapped with a
    hanging indent of two cells."""
    if text.cell_len <= width:
        return [text]
    if text.no_wrap:
        cut = text.copy()
        cut.truncate(width, overflow="ellipsis")
        return [cut]
    first, *rest = wrap(text, width)
    if not rest or width <= 4:
        return [first, *rest]
    return [first] + [Text("  ") + part for part in wrap(Text(" ").join(rest), width - 2)]


def place(widths: list[int], free: list[bool], width: int, pad: int) -> list[list[tuple[int, int, int]]]:
    """The columns of a table laid on lines (bands) of ``width`` cells: for each band,
    ``(column, x, cells)``.  A band is full when the next column would pass ``width``;
    the next band starts under the second column (two cells in when the first is wide)."""
    indent = widths[0] + pad if widths and widths[0] + pad <= width // 4 else 2
    bands: list[list[tuple[int, int, int]]] = []
    band: list[tuple[int, int, int]] = []
    x = 0
    for i, w in enumerate(widths):
        start = x + pad if band else x
        if band and start + w > width:
            room = width - start
            if free[i] and room >= min(w, MIN_FREE):
                band.append((i, start, room))        # free text wraps in what is left
                x = width
                continue
            bands.append(band)
            band, start = [], indent
        cells = max(1, min(w, width - start))        # a cell wider than a line wraps in it
        band.append((i, start, cells))
        x = start + cells
    bands.append(band)
    return bands


def fold_row(cells: tuple[Text, ...], bands) -> list[Text]:
    """One table row laid out on ``bands`` (``place``); a continuation line with nothing
    in it is left out."""
    out: list[Text] = []
    for b, band in enumerate(bands):
        parts = [(x, wrap(cells[i], w) if i < len(cells) else []) for i, x, w in band]
        height = max((len(p) for _, p in parts), default=0)
        lines = []
        for k in range(height):
            line = Text(no_wrap=True)
            for x, p in parts:
                if k < len(p) and p[k].cell_len:
                    line.append(" " * (x - line.cell_len))
                    line.append_text(p[k])
            line.rstrip()
            lines.append(line)
        if b and not any(line.plain.strip() for line in lines):
            continue
        out.extend(lines)
    return out
