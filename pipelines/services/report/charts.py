"""The report's charts: for each, the question, the SQL behind it, its tables and a drawing.

Each drawing takes the result of its SQL (`warehouse/queries/chart_<id>.sql`) as a
DataFrame and returns a matplotlib Figure; an empty result gives a 'no data yet'
panel, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pipelines.services.report.cost import CREDITS_EMPTY, draw_failure_cost
from pipelines.services.report.figures import (
    ACCENT,
    CANCEL,
    FAIL,
    INK,
    MUTED,
    PERCENT_FORMATTER,
    SECONDS_FORMATTER,
    empty_figure,
    human_seconds,
    new_figure,
)
from pipelines.services.report.graph import draw_transition_graph
from pipelines.services.report.trees import draw_tree_paths, draw_tree_shares

MAX_TYPES = 20  # job types shown per chart; the data table below a chart has them all
NO_DATA = "No data yet"
NO_DATA_DETAIL = "Run the pipeline (`make demo` or `bedrock-jobs ingest`) to fill {tables}."


@dataclass(frozen=True)
class Chart:
    """One chart of the report."""

    id: str
    title: str
    question: str
    tables: tuple[str, ...]
    draw: Callable[[pd.DataFrame], Figure]
    empty: tuple[str, str] | None = None
    """(message, detail) when the query returns no rows; default: 'no data yet'."""

    @property
    def sql_name(self) -> str:
        return f"chart_{self.id}"

    def figure(self, frame: pd.DataFrame) -> Figure:
        """The chart for `frame`, or a 'no data yet' panel naming its tables."""
        if frame.empty:
            return empty_figure(*(self.empty or (
                NO_DATA, NO_DATA_DETAIL.format(tables=", ".join(self.tables)))))
        return self.draw(frame)


def draw_job_types(frame: pd.DataFrame) -> Figure:
    """Slowest job types (p95 total, p50 marked) beside their failure rates (95% CI)."""
    total = len(frame)
    shown = frame.head(MAX_TYPES).iloc[::-1].reset_index(drop=True)  # slowest at the top
    y = np.arange(len(shown))
    figure, (left, right) = new_figure(10, 1.2 + 0.28 * len(shown), ncols=2, sharey=True)
    p95 = shown["p95_seconds"].astype(float)
    left.barh(y, p95.fillna(0), color=ACCENT, alpha=0.85, height=0.6, label="p95")
    left.scatter(shown["p50_seconds"].astype(float), y, color=INK, s=14, zorder=3, label="p50")
    left.set_yticks(y, shown["job_type"])
    left.xaxis.set_major_formatter(SECONDS_FORMATTER)
    left.set_title("Total duration: p95 (bar) and p50 (dot)", loc="left")
    left.legend(loc="lower right", frameon=False)
    left.grid(axis="y", visible=False)

    rate = shown["failure_rate"].astype(float)
    low = (rate - shown["failure_rate_ci_low"].astype(float)).clip(lower=0)
    high = (shown["failure_rate_ci_high"].astype(float) - rate).clip(lower=0)
    # Arrays, not Series: with one job type matplotlib would call float() on a Series.
    right.errorbar(rate.to_numpy(), y, xerr=np.vstack([low.fillna(0), high.fillna(0)]),
                   fmt="o", color=FAIL,
                   ecolor="#e9a39d", elinewidth=2, capsize=2, markersize=4)
    right.xaxis.set_major_formatter(PERCENT_FORMATTER)
    right.set_xlim(left=0)
    right.set_title("Failure rate with 95% Wilson interval", loc="left")
    right.grid(axis="y", visible=False)
    if total > len(shown):
        figure.suptitle(f"the {len(shown)} slowest of {total} job types", color=MUTED,
                        fontsize=8, x=0.99, ha="right")
    return figure


PHASES = ("queued", "running", "total")


def draw_durations(frame: pd.DataFrame) -> Figure:
    """Box plots (p25–p75 box, p5–p95 whiskers, p50 line) per job type, one panel per phase."""
    order = (frame[frame["phase"] == "total"].sort_values("p50_seconds", ascending=False)
             ["job_type"].tolist())
    order += sorted(set(frame["job_type"]) - set(order))
    order = order[:MAX_TYPES][::-1]
    figure, axes = new_figure(10, 1.3 + 0.27 * len(order), ncols=3, sharey=True)
    for ax, phase in zip(axes, PHASES, strict=True):
        rows = frame[frame["phase"] == phase].set_index("job_type")
        stats, positions = [], []
        for position, job_type in enumerate(order):
            if job_type not in rows.index:
                continue
            row = rows.loc[job_type]
            stats.append({"med": row.p50_seconds, "q1": row.p25_seconds, "q3": row.p75_seconds,
                          "whislo": row.p05_seconds, "whishi": row.p95_seconds, "fliers": [],
                          "label": job_type})
            positions.append(position)
        if stats:
            ax.bxp(stats, positions=positions, orientation="horizontal", widths=0.6,
                   showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "#cfe0f3", "edgecolor": ACCENT},
                   medianprops={"color": INK}, whiskerprops={"color": ACCENT},
                   capprops={"color": ACCENT})
        ax.set_xscale("symlog", linthresh=1)
        ax.xaxis.set_major_formatter(SECONDS_FORMATTER)
        ax.set_title(f"{phase}", loc="left")
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(range(len(order)), order)
    axes[0].set_ylim(-0.7, len(order) - 0.3)
    return figure


def draw_failure_trend(frame: pd.DataFrame) -> Figure:
    """Failure rate per day (line) inside its 95% band, over terminal jobs per day (bars)."""
    days = pd.to_datetime(frame["day"])
    rate = frame["failure_rate"].astype(float)
    low = frame["failure_rate_ci_low"].astype(float)
    high = frame["failure_rate_ci_high"].astype(float)
    figure, (ax,) = new_figure(10, 3.2)
    volume = ax.twinx()
    volume.bar(days, frame["terminal"].astype(float), color="#e3e3e3", width=0.8, zorder=0)
    volume.set_ylabel("terminal jobs per day", color=MUTED)
    volume.tick_params(axis="y", colors=MUTED)
    volume.grid(False)
    volume.spines["right"].set_visible(True)
    ax.set_zorder(volume.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.fill_between(days, low, high, color=FAIL, alpha=0.18, linewidth=0, label="95% interval",
                    step=None)
    ax.plot(days, rate, color=FAIL, marker="o", markersize=3.5, linewidth=1.6,
            label="failure rate")
    if len(frame) == 1:
        # Clipped: at a rate of 0 the Wilson bound's rounding leaves it 1e-17 above the rate.
        # Arrays, not Series: matplotlib would call float() on a one-element Series.
        ax.errorbar(days.to_numpy(), rate.to_numpy(),
                    yerr=np.vstack([(rate - low).clip(lower=0), (high - rate).clip(lower=0)]),
                    fmt="none", ecolor=FAIL)
    ax.yaxis.set_major_formatter(PERCENT_FORMATTER)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("failed / terminal")
    ax.legend(loc="upper left", frameon=False)
    figure.autofmt_xdate()
    return figure


def draw_stuck(frame: pd.DataFrame) -> Figure:
    """Stuck jobs per (job type, status); each bar notes the oldest age and the threshold."""
    shown = frame.head(MAX_TYPES).iloc[::-1].reset_index(drop=True)
    y = np.arange(len(shown))
    figure, (ax,) = new_figure(10, 1.2 + 0.3 * len(shown))
    colors = [FAIL if status == "RUNNING" else "#8c8c8c" for status in shown["status"]]
    ax.barh(y, shown["jobs"].astype(float), color=colors, height=0.6)
    labels = [f"{t} · {s}" for t, s in zip(shown["job_type"], shown["status"], strict=True)]
    ax.set_yticks(y, labels)
    for position, row in shown.iterrows():
        ax.text(float(row.jobs), position,
                f"  oldest {human_seconds(row.oldest_seconds)} "
                f"(threshold {human_seconds(row.threshold_seconds)})",
                va="center", fontsize=8, color=MUTED)
    ax.set_xlabel("stuck jobs")
    ax.set_xlim(right=float(shown["jobs"].max()) * 1.6 + 1)
    ax.grid(axis="y", visible=False)
    return figure


def draw_fanout(frame: pd.DataFrame) -> Figure:
    """Children per parent (box: p25–p75, whiskers p5–p95) and parents with failed children."""
    shown = frame.head(MAX_TYPES).iloc[::-1].reset_index(drop=True)
    y = np.arange(len(shown))
    figure, (left, right) = new_figure(10, 1.3 + 0.3 * len(shown), ncols=2, sharey=True)
    stats = [{"med": r.p50_children, "q1": r.p25_children, "q3": r.p75_children,
              "whislo": r.p05_children, "whishi": r.p95_children, "fliers": [],
              "label": r.parent_type} for r in shown.itertuples()]
    left.bxp(stats, positions=y, orientation="horizontal", widths=0.6, showfliers=False,
             patch_artist=True, boxprops={"facecolor": "#cfe0f3", "edgecolor": ACCENT},
             medianprops={"color": INK}, whiskerprops={"color": ACCENT},
             capprops={"color": ACCENT})
    left.set_yticks(y, [f"{t} ({int(n)})" for t, n in
                        zip(shown["parent_type"], shown["parents"], strict=True)])
    left.set_title("Children per parent (number of parents)", loc="left")
    left.grid(axis="y", visible=False)
    right.barh(y + 0.17, shown["share_with_failed_child"].astype(float), height=0.32,
               color=FAIL, label="a child failed")
    right.barh(y - 0.17, shown["share_with_canceled_child"].astype(float), height=0.32,
               color=CANCEL, label="a child was canceled")
    right.xaxis.set_major_formatter(PERCENT_FORMATTER)
    right.set_title("Parents with a failed or canceled child", loc="left")
    right.legend(loc="lower right", frameon=False)
    right.grid(axis="y", visible=False)
    return figure


CHARTS: tuple[Chart, ...] = (
    Chart("job_types", "Slowest and most failing job types",
          "Which job types take longest, and which fail most often?",
          ("marts.duration_stats", "marts.failure_rates"), draw_job_types),
    Chart("durations", "Duration distributions per job type and phase",
          "How long does each job type wait in the queue, run, and take in total?",
          ("marts.job_durations",), draw_durations),
    Chart("failure_trend", "Failure rate per day",
          "Is the failure rate moving, beyond what chance explains?",
          ("marts.failure_rates",), draw_failure_trend),
    Chart("transitions", "Status transitions",
          "How do jobs move between statuses, how often, and how long do they stay?",
          ("marts.transition_matrix",), draw_transition_graph),
    Chart("stuck", "Stuck jobs",
          "Which jobs have been in one status for longer than their type ever needs?",
          ("marts.stuck_jobs",), draw_stuck,
          empty=("No stuck jobs", "No job has been in its status longer than its threshold "
                 "(see marts.stuck_jobs).")),
    Chart("fanout", "Parent/child fan-out",
          "How many children do parent jobs spawn, and how often does a child fail?",
          ("marts.job_trees",), draw_fanout),
    Chart("tree_shares", "Where a tree's time goes",
          "For each kind of job tree, which stage and phase does its critical path spend its "
          "time in? (the median tree; docs/trees.md)",
          ("marts.tree_critical_path",), draw_tree_shares,
          empty=("No complete job trees yet", "A tree is a finished job with at least one "
                 "known child; every job in it must have ended.")),
    Chart("tree_paths", "The slowest tree of each kind, on its critical path",
          "Where did the slowest tree of each kind spend its time, job by job?",
          ("marts.tree_critical_path",), draw_tree_paths,
          empty=("No complete job trees yet", "A tree is a finished job with at least one "
                 "known child; every job in it must have ended.")),
    Chart("credits", "What failures cost",
          "How many credits go to jobs that fail, and to running them again? Each job costs "
          "its type's price (docs/api-contract.md, \"Credits\"); failed are jobs that ended "
          "FAILED or CANCELED, retries are jobs of the same type and target created within "
          "7 days after such a job ended.",
          ("marts.credits_by_week",), draw_failure_cost, empty=CREDITS_EMPTY),
)
KEY_CHART = "job_types"
