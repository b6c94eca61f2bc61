"""The report's chapter "Where a tree's time goes" (docs/trees.md): per kind of tree, the
median tree's critical path by stage and phase as one stacked bar, and the slowest tree's
critical path drawn as a timeline, jobs stacked by depth."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipelines.services.report.figures import (
    INK,
    PERCENT_FORMATTER,
    human_seconds,
    new_figure,
)

MAX_KINDS = 8  # kinds of tree drawn; the data table below a chart has them all
PALETTE = matplotlib.colormaps["tab20"].colors[::2] + matplotlib.colormaps["tab20"].colors[1::2]
QUEUED_ALPHA = 0.35  # queued time: the stage's colour, paler and hatched


def _colors(job_types: list[str]) -> dict[str, tuple]:
    """A colour per stage, in alphabetical order (the same stages get the same colours)."""
    return {job_type: PALETTE[i % len(PALETTE)] for i, job_type in
            enumerate(sorted(set(job_types)))}


def _segment_style(color: tuple, phase: str) -> dict:
    if phase == "queued":
        return {"color": color, "alpha": QUEUED_ALPHA, "hatch": "///", "edgecolor": "white"}
    return {"color": color, "edgecolor": "white"}


def _legend(ax, colors: dict[str, tuple]) -> None:
    handles = [Patch(facecolor=color, label=job_type) for job_type, color in colors.items()]
    handles += [Patch(facecolor="#999999", label="running"),
                Patch(facecolor="#999999", alpha=QUEUED_ALPHA, hatch="///", label="queued")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False,
              fontsize=8, ncol=4)


def draw_tree_shares(frame: pd.DataFrame) -> Figure:
    """Per kind of tree, the median tree's critical path: the share of each stage and phase."""
    kinds = list(dict.fromkeys(frame["root_type"]))[:MAX_KINDS][::-1]
    colors = _colors(frame["job_type"].tolist())
    figure, (ax,) = new_figure(10, 2.0 + 0.45 * len(kinds) + 0.2 * (len(colors) // 4 + 1))
    labels = []
    for y, kind in enumerate(kinds):
        rows = frame[frame["root_type"] == kind]
        left = 0.0
        for row in rows.itertuples():
            share = float(row.share)
            ax.barh(y, share, left=left, height=0.6,
                    **_segment_style(colors[row.job_type], row.phase))
            if share >= 0.08:
                ax.text(left + share / 2, y, f"{share:.0%}", ha="center", va="center",
                        fontsize=7, color=INK)
            left += share
        first = rows.iloc[0]
        labels.append(f"{kind}\np50 tree {human_seconds(first.p50_tree_seconds)}, "
                      f"{int(first.trees)} trees")
    ax.set_yticks(np.arange(len(kinds)), labels)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PERCENT_FORMATTER)
    ax.set_xlabel("share of the median tree's time on its critical path")
    ax.grid(axis="y", visible=False)
    _legend(ax, colors)
    return figure


def draw_tree_paths(frame: pd.DataFrame) -> Figure:
    """The slowest tree of each kind as its critical path over time: a row per kind, jobs
    offset by depth, time as a share of the tree's length (its length at the right)."""
    kinds = list(dict.fromkeys(frame["root_type"]))[:MAX_KINDS][::-1]
    colors = _colors(frame["job_type"].tolist())
    depth_step = 0.8 / (int(frame["depth"].max()) + 1)
    figure, (ax,) = new_figure(10, 2.0 + 0.6 * len(kinds) + 0.2 * (len(colors) // 4 + 1))
    labels = []
    for y, kind in enumerate(kinds):
        rows = frame[frame["root_type"] == kind]
        total = float(rows["tree_seconds"].iloc[0]) or 1.0
        labels.append(f"{kind}\nslowest of {int(rows['trees'].iloc[0])}: {human_seconds(total)}")
        for row in rows.itertuples():
            ax.barh(y + 0.4 - (row.depth + 0.5) * depth_step, float(row.seconds) / total,
                    left=float(row.offset_seconds) / total, height=depth_step * 0.9,
                    **_segment_style(colors[row.job_type], row.phase))
    ax.set_yticks(np.arange(len(kinds)), labels)
    ax.set_ylim(-0.6, len(kinds) - 0.4)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PERCENT_FORMATTER)
    ax.set_xlabel("time since the tree started, as a share of its length "
                  "(the root at the top of each row, deeper jobs below)")
    ax.grid(axis="y", visible=False)
    _legend(ax, colors)
    return figure
