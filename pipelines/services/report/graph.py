"""The status transition graph: statuses as nodes, edges labeled with counts and p50 times.

Drawn with plain matplotlib patches: the five canonical statuses have fixed places
(queue → run → outcomes, left to right), so the picture reads the same every day;
unknown statuses, which the warehouse keeps rather than drops, get a row below.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from pipelines.services.report.figures import (
    INK,
    MUTED,
    OTHER_STATUS_COLOR,
    STATUS_COLORS,
    human_seconds,
    new_figure,
)

PLACES = {
    "PENDING": (0.0, 0.0),
    "RUNNING": (4.6, 0.0),
    "COMPLETED": (9.4, 1.7),
    "FAILED": (9.4, 0.0),
    "CANCELED": (9.4, -1.7),
}
NODE_W, NODE_H = 1.5, 0.55


def _places(statuses: set[str]) -> dict[str, tuple[float, float]]:
    places = dict(PLACES)
    for index, status in enumerate(sorted(statuses - set(PLACES))):
        places[status] = (2.3 + 2.6 * index, -3.0)
    return places


def _edge_points(a: tuple[float, float], b: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end on the node boxes' borders, not their centres."""
    start, end = np.array(a), np.array(b)
    direction = end - start
    length = float(np.hypot(*direction)) or 1.0
    unit = direction / length
    # Distance from a box centre to its border along `unit`.
    reach = min(NODE_W / 2 / abs(unit[0]) if unit[0] else math.inf,
                NODE_H / 2 / abs(unit[1]) if unit[1] else math.inf) + 0.08
    return start + unit * reach, end - unit * reach


def _draw_nodes(ax, places: dict[str, tuple[float, float]], statuses: set[str]) -> None:
    """A rounded box per status present, in its status colour."""
    for status, (x, y) in places.items():
        if status not in statuses:
            continue
        color = STATUS_COLORS.get(status, OTHER_STATUS_COLOR)
        ax.add_patch(FancyBboxPatch((x - NODE_W / 2, y - NODE_H / 2), NODE_W, NODE_H,
                                    boxstyle="round,pad=0.02,rounding_size=0.15",
                                    facecolor=color, edgecolor="none"))
        ax.text(x, y, status, ha="center", va="center", color="white", fontsize=9,
                fontweight="bold")


def draw_transition_graph(frame: pd.DataFrame) -> Figure:
    """Nodes per status; one arrow per (from, to) pair, width by count, labeled n and p50."""
    statuses = set(frame["from_status"]) | set(frame["to_status"])
    places = _places(statuses)
    figure, (ax,) = new_figure(10, 5.0 if statuses - set(PLACES) else 4.0)
    ax.set_axis_off()
    pairs = set(zip(frame["from_status"], frame["to_status"], strict=True))
    top = max(float(frame["n"].max()), 1.0)

    for row in frame.itertuples():
        label = f"{int(row.n):,} · p50 {human_seconds(row.p50_seconds)}"
        width = 0.8 + 4.0 * math.log1p(float(row.n)) / math.log1p(top)
        if row.from_status == row.to_status:  # a status repeated at a later time
            x, y = places[row.from_status]
            ax.add_patch(FancyArrowPatch((x - 0.3, y + NODE_H / 2), (x + 0.3, y + NODE_H / 2),
                                         connectionstyle="arc3,rad=-1.6", arrowstyle="-|>",
                                         mutation_scale=10, linewidth=width * 0.6, color=MUTED))
            ax.text(x, y + NODE_H / 2 + 0.55, label, ha="center", va="bottom", fontsize=8,
                    color=INK)
            continue
        a, b = places[row.from_status], places[row.to_status]
        start, end = _edge_points(a, b)
        rad = 0.0
        if (row.to_status, row.from_status) in pairs:
            rad = 0.3  # a pair both ways: the two arrows bow apart
        elif row.from_status == "PENDING" and row.to_status in ("COMPLETED", "FAILED",
                                                                "CANCELED"):
            rad = 0.35 if b[1] <= a[1] else -0.35  # skip RUNNING: bow around it
        color = STATUS_COLORS.get(row.to_status, OTHER_STATUS_COLOR)
        ax.add_patch(FancyArrowPatch(tuple(start), tuple(end),
                                     connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                     mutation_scale=12, linewidth=width, color=color,
                                     alpha=0.75, shrinkA=0, shrinkB=0))
        # The middle of the arc3 Bezier curve is midpoint + rad/2 * (dy, -dx); labels of
        # curved edges sit a little outside it, so the two arrows of a pair stay visible.
        d = end - start
        perpendicular = np.array([d[1], -d[0]])
        middle = ((start + end) / 2 + rad / 2 * perpendicular
                  + 0.2 * np.sign(rad) * perpendicular / float(np.hypot(*d)))
        ax.text(middle[0], middle[1], label, ha="center", va="center", fontsize=8, color=INK,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.9})

    _draw_nodes(ax, places, statuses)

    xs = [p[0] for s, p in places.items() if s in statuses]
    ys = [p[1] for s, p in places.items() if s in statuses]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 1.3, max(ys) + 1.4)
    ax.set_aspect("equal")
    ax.text(0.0, 0.0, "edge: transitions · p50 time in the from-status", transform=ax.transAxes,
            fontsize=8, color=MUTED)
    return figure
