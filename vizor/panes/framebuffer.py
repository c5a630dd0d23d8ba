"""The framebuffer: what the guest drew, in the terminal with half-block
characters (each cell shows two pixels, the upper as the foreground of "▀",
the lower as its background), scaled to fit the pane (nearest pixel, the
aspect ratio kept).  It renders the snapshot's sampled picture
(``BoardState.framebuffer``), so it follows the board while it runs."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text

from vizor.panes.common import SnapshotPane

UPPER_HALF = "\u2580"


def half_block_lines(width: int, height: int, rgb: bytes, cols: int, rows: int) -> list[Text]:
    """The picture scaled to at most cols x (2 * rows) pixels, as Text lines."""
    if width <= 0 or height <= 0 or cols <= 0 or rows <= 0:
        return []
    scale = max(width / cols, height / (2 * rows))
    out_w, out_h = max(int(width / scale), 1), max(int(height / scale), 1)
    xs = [min(int(i * scale), width - 1) for i in range(out_w)]

    def pixel(x: int, y: int) -> str:
        i = 3 * (y * width + x)
        return f"#{rgb[i]:02x}{rgb[i + 1]:02x}{rgb[i + 2]:02x}"

    styles: dict[tuple[str, str], Style] = {}
    lines = []
    for r in range(0, out_h, 2):
        top = min(int(r * scale), height - 1)
        bottom = min(int((r + 1) * scale), height - 1) if r + 1 < out_h else None
        line = Text()
        for x in xs:
            fg = pixel(x, top)
            bg = pixel(x, bottom) if bottom is not None else "#000000"
            style = styles.get((fg, bg))
            if style is None:
                style = styles[(fg, bg)] = Style.parse(f"{fg} on {bg}")
            line.append(UPPER_HALF, style)
        lines.append(line)
    return lines


class FramebufferPane(SnapshotPane):
    DEFAULT_CSS = "FramebufferPane { height: 1fr; }"

    def view_key(self, snap):
        fb = snap.framebuffer
        return (None if fb is None else (fb.config, fb.crc), self.size.width, self.size.height)

    def on_resize(self, _event) -> None:
        self._key = None
        self._refresh_view()

    def render_snapshot(self, snap):
        fb = snap.framebuffer
        if fb is None:
            return Group(Text("no framebuffer: the guest has not allocated one "
                              "(mailbox property tag 0x00040001)", style="dim"))
        c = fb.config
        head = Text(f"{c.width}x{c.height} {c.depth} bpp {'RGB' if c.pixel_order else 'BGR'} "
                    f"pitch {c.pitch} at {c.base:#010x}", style="bold")
        cols, rows = max(self.size.width, 1), max(self.size.height - 1, 1)
        return Group(head, *half_block_lines(fb.width, fb.height, fb.rgb, cols, rows))
