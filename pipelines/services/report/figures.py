"""Shared figure plumbing: matplotlib without pyplot, the palette, empty panels, output.

Figures are built with `matplotlib.figure.Figure` directly (no pyplot, no global
state), so reports can be drawn from any thread of a Dagster run. Text is drawn
as paths in SVG output: the report needs no font on the reader's machine.
"""

from __future__ import annotations

import io
import math
import re

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

matplotlib.use("Agg")  # never a GUI backend: reports are built headless

STATUS_COLORS = {
    "PENDING": "#8c8c8c",
    "RUNNING": "#2f6db5",
    "COMPLETED": "#2e9d5b",
    "FAILED": "#c8372d",
    "CANCELED": "#e08a1e",
}
OTHER_STATUS_COLOR = "#7b52ab"
INK = "#222222"
MUTED = "#6b6b6b"
ACCENT = "#2f6db5"
FAIL = STATUS_COLORS["FAILED"]
CANCEL = STATUS_COLORS["CANCELED"]

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.edgecolor": "#bbbbbb",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "svg.fonttype": "path",
    "figure.dpi": 100,
}


def new_figure(width: float, height: float, ncols: int = 1,
               sharey: bool = False) -> tuple[Figure, list]:
    """A figure of `width` x `height` inches with `ncols` axes side by side."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.subplots(1, ncols, sharey=sharey, squeeze=False)[0]
    return figure, list(axes)


def empty_figure(message: str, detail: str = "") -> Figure:
    """A 'no data yet' panel: still a drawn chart, saying why it is empty."""
    figure, (ax,) = new_figure(8, 1.8)
    ax.set_axis_off()
    ax.text(0.5, 0.62, message, ha="center", va="center", fontsize=12, color=INK,
            transform=ax.transAxes)
    if detail:
        ax.text(0.5, 0.3, detail, ha="center", va="center", fontsize=9, color=MUTED,
                transform=ax.transAxes)
    return figure


def human_seconds(value: float) -> str:
    """45s, 3.2m, 1.5h, 2.1d: durations as people read them."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if abs(value) < 60:
        return f"{value:.0f}s" if abs(value) >= 10 or value == int(value) else f"{value:.1f}s"
    if abs(value) < 3600:
        return f"{value / 60:.1f}m"
    if abs(value) < 86400:
        return f"{value / 3600:.1f}h"
    return f"{value / 86400:.1f}d"


SECONDS_FORMATTER = FuncFormatter(lambda value, _pos: human_seconds(value))
PERCENT_FORMATTER = FuncFormatter(lambda value, _pos: f"{value:.0%}" if value >= 0.1 or value == 0
                                  else f"{value:.1%}")


def to_svg(figure: Figure, salt: str) -> str:
    """The figure as an inline `<svg>` element (no XML prolog), with ids unique to `salt`.

    The salt keeps clip-path ids of different charts apart when several SVGs share
    one HTML page; the output is deterministic for the same figure and salt.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", text[start:], count=1, flags=re.S)
    # Glyph ids are shared by design (same glyph, same path); clip paths get the salt.
    return re.sub(r'\s+width="[\d.]+pt"\s+height="[\d.]+pt"', ' width="100%"', svg, count=1)


def to_png(figure: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for the Dagster UI, where an image is all that shows)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
