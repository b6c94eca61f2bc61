"""The drawing of "What failures cost": credits per week, spent against lost to failures and
to retries (its query: `warehouse/queries/chart_credits.sql`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipelines.services.report.figures import ACCENT, FAIL, MUTED, OTHER_STATUS_COLOR, new_figure

MAX_WEEKS = 26  # the latest half year; the data table below the chart has every week
SERIES = (
    ("credits", "spent", ACCENT),
    ("credits_failed", "on jobs that failed or were canceled", FAIL),
    ("credits_retried", "on retries of them", OTHER_STATUS_COLOR),
)
CREDITS_EMPTY = (
    "No credits yet",
    "No job of a priced type yet (prices and how to set them: docs/api-contract.md, "
    "\"Credits\").",
)


def draw_failure_cost(frame: pd.DataFrame) -> Figure:
    """Grouped bars per ISO week: credits spent, on failures, on retries; a week still
    under way is drawn paler."""
    shown = frame.tail(MAX_WEEKS).reset_index(drop=True)
    x = np.arange(len(shown))
    width = 0.27
    figure, (ax,) = new_figure(10, 3.4)
    complete = shown["week_complete"].fillna(False).astype(bool).to_numpy()
    for offset, (column, _label, color) in zip((-1, 0, 1), SERIES, strict=True):
        values = shown[column].astype(float).fillna(0).to_numpy()
        bars = ax.bar(x + offset * width, values, width=width * 0.95, color=color)
        for bar, done in zip(bars, complete, strict=True):
            bar.set_alpha(0.9 if done else 0.4)
    failed = shown["credits_failed"].astype(float)
    spent = shown["credits"].astype(float)
    for position, (lost, total) in enumerate(zip(failed, spent, strict=True)):
        if total > 0:  # above the week's "spent" bar
            ax.text(position - width, total, f"{lost / total:.0%}", ha="center", va="bottom",
                    fontsize=7, color=MUTED)
    ax.set_xticks(x, shown["iso_week"].astype(str),
                  rotation=45 if len(shown) > 8 else 0, ha="right" if len(shown) > 8 else "center")
    ax.set_ylabel("credits")
    ax.set_ylim(top=float(spent.max()) * 1.12 or 1.0)
    ax.grid(axis="x", visible=False)
    handles = [Patch(color=color, label=label) for _column, label, color in SERIES]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1), ncols=3, frameon=False,
              fontsize=8)
    note = "% over a week: the share of its credits spent on jobs that failed"
    if not complete.all():
        note += " · pale: the week is still under way"
    ax.set_xlabel(note, color=MUTED, fontsize=8)
    return figure
