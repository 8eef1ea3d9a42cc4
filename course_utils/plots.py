"""Figures the notebooks share: learning curves, confusion matrices, comparisons.

Every function returns the matplotlib ``Figure`` (nothing is saved or shown
behind your back); in a notebook end the cell with ``;`` or assign the result
(``fig = plot_history(runs)``) so that Jupyter shows the figure once. The
functions work headless (Agg backend), e.g. in CI or under nbval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from course_utils.train import History

__all__ = ["comparison_table", "plot_comparison", "plot_confusion_matrix", "plot_history"]

_PART_TITLES = {"train": "train", "eval": "eval"}


def _as_runs(histories) -> dict[str, History]:
    if isinstance(histories, History):
        return {histories.name or "run": histories}
    if isinstance(histories, Mapping):
        items = list(histories.items())
    elif isinstance(histories, Sequence) and not isinstance(histories, str):
        items = [
            (h.name or f"run {i}", h) if isinstance(h, History) else (None, h)
            for i, h in enumerate(histories)
        ]
    else:
        raise TypeError(
            "expected a History, a list of Histories or a dict name -> History, "
            f"found {type(histories).__name__}"
        )
    runs = {}
    for name, hist in items:
        if not isinstance(hist, History):
            raise TypeError(
                f"expected History objects (returned by fit), found {type(hist).__name__} for {name!r}"
            )
        runs[str(name)] = hist
    if not runs:
        raise ValueError("nothing to plot: no histories were given")
    return runs


def _colours(n: int):
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def plot_history(
    histories,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> Figure:
    """Learning curves of one or many runs.

    One row of panels per metric (loss, accuracy), train on the left and eval on
    the right with a shared y axis, one colour per run. ``histories``: a
    :class:`~course_utils.train.History`, a list of them, or a dict
    ``name -> History`` (e.g. the result of ``run_experiments``).
    """
    runs = _as_runs(histories)
    if isinstance(metrics, str):
        metrics = (metrics,)
    for metric in metrics:
        for part in ("train", "eval"):
            for name, hist in runs.items():
                if hist.epochs and f"{part}_{metric}" not in hist.epochs[0]:
                    raise KeyError(
                        f"run {name!r} has no {part + '_' + metric!r}; "
                        f"it records {list(hist.epochs[0])}"
                    )
    parts = [
        p
        for p in ("train", "eval")
        if any(
            not all(math.isnan(v) for v in h[f"{p}_{m}"]) for h in runs.values() for m in metrics
        )
    ]
    parts = parts or ["train"]
    fig, axes = plt.subplots(
        len(metrics),
        len(parts),
        figsize=(4.2 * len(parts) + 2.2, 2.9 * len(metrics)),
        squeeze=False,
        sharey="row",
        layout="constrained",
    )
    colours = _colours(len(runs))
    max_epoch = max((max(h["epoch"]) for h in runs.values() if h.epochs), default=1)
    for r, metric in enumerate(metrics):
        for c, part in enumerate(parts):
            ax = axes[r][c]
            for colour, (name, hist) in zip(colours, runs.items()):
                ax.plot(
                    hist["epoch"],
                    hist[f"{part}_{metric}"],
                    marker="o",
                    markersize=4,
                    color=colour,
                    label=name,
                )
            ax.set_title(f"{_PART_TITLES[part]} {metric}")
            ax.set_xlabel("epoch")
            ax.set_xlim(0.5, max_epoch + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        axes[r][0].set_ylabel(metric)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize="small", title="run")
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion_matrix(
    y_true,
    y_pred,
    labels: Sequence[str] | None = None,
    normalize: bool = True,
    title: str | None = None,
) -> Figure:
    """Confusion matrix: rows are true classes, columns predicted classes.

    ``labels`` names the classes 0..n-1; ``normalize=True`` shows each row as
    fractions of that true class (so the diagonal is the per-class recall),
    else raw counts.
    """
    from sklearn.metrics import confusion_matrix

    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, found {len(y_true)} and {len(y_pred)}"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty: nothing to count")
    for what, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0:
            raise ValueError(
                f"{what} must hold class indices 0..n-1, found {arr[:5]} (dtype {arr.dtype})"
            )
    n = int(max(y_true.max(), y_pred.max())) + 1
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) < n:
            raise ValueError(
                f"labels names {len(labels)} classes, but the data has class index {n - 1}"
            )
        n = len(labels)
    else:
        labels = [str(i) for i in range(n)]
    cm = confusion_matrix(y_true, y_pred, labels=list(range(n)))
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = max(3.5, 0.55 * n + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size), layout="constrained")
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        threshold = shown.max() / 2 if shown.max() > 0 else 0.5
        for i in range(n):
            for j in range(n):
                text = f"{shown[i, j]:.2f}" if normalize else f"{int(shown[i, j])}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if shown[i, j] > threshold else "black",
                )
    accuracy = np.trace(cm) / cm.sum()
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.3f})")
    return fig


def _values(values, metric: str) -> dict[str, float]:
    """Turn Runs / a DataFrame / a Series / a dict into ``name -> value``."""
    import pandas as pd

    if hasattr(values, "summary") and callable(values.summary) and isinstance(values, Mapping):
        values = values.summary()
    if isinstance(values, pd.DataFrame):
        if metric not in values.columns:
            raise KeyError(f"no column {metric!r}; the table has {list(values.columns)}")
        values = values[metric]
    if isinstance(values, pd.Series):
        values = values.to_dict()
    if not isinstance(values, Mapping):
        raise TypeError(
            "expected a dict name -> value, a pandas Series/DataFrame or Runs, "
            f"found {type(values).__name__}"
        )
    if not values:
        raise ValueError("nothing to compare: no values were given")
    out = {}
    for name, v in values.items():
        if isinstance(v, History):
            v = v.last(metric)
        try:
            out[str(name)] = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"value for {name!r} must be a number, found {v!r}") from None
    return out


def plot_comparison(
    values,
    metric: str = "eval_accuracy",
    baseline: Mapping[str, float] | float | None = None,
    title: str | None = None,
    zoom: bool = True,
) -> Figure:
    """Horizontal bar chart of one number per run, best at the top, each bar labelled.

    ``values``: a dict ``name -> number``, a Series, a DataFrame (its
    ``metric`` column) or ``Runs`` (last-epoch ``metric``). ``baseline`` draws
    dashed reference lines (a number, or a dict label -> number). ``zoom``
    starts the axis near the smallest value instead of 0 so that small
    differences are visible (the axis label says so).
    """
    vals = _values(values, metric)
    finite = {k: v for k, v in vals.items() if not math.isnan(v)}
    order = sorted(finite, key=finite.get) + [k for k in vals if k not in finite]
    refs = (
        {}
        if baseline is None
        else (dict(baseline) if isinstance(baseline, Mapping) else {"baseline": float(baseline)})
    )
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(vals) + 1.4), layout="constrained")
    ax.barh(range(len(order)), [vals[k] for k in order], color="tab:blue")
    ax.set_yticks(range(len(order)), order)
    for i, k in enumerate(order):
        ax.text(
            vals[k] if not math.isnan(vals[k]) else 0,
            i,
            f" {vals[k]:.4f}",
            va="center",
            fontsize="small",
        )
    for (label, ref), style in zip(refs.items(), ["--", ":", "-."] * 10):
        ax.axvline(ref, color="black", linestyle=style, linewidth=1, label=f"{label} {ref:.4f}")
    if refs:
        ax.legend(loc="lower right", fontsize="small")
    everything = list(finite.values()) + list(refs.values())
    label = metric
    if zoom and everything:
        lo, hi = min(everything), max(everything)
        span = max(hi - lo, 1e-3)
        left = max(0.0, lo - 0.5 * span) if lo >= 0 else lo - 0.5 * span
        ax.set_xlim(left, hi + 0.35 * span)
        if left > 0:
            label += f" (axis starts at {left:.3g})"
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return fig


def comparison_table(
    values,
    reference: str,
    metric: str = "eval_accuracy",
    tol: float = 0.0,
    higher_is_better: bool = True,
):
    """Compare runs with a reference run: a DataFrame with ``metric``, the
    difference to the reference and a verdict (``helped`` / ``hurt`` /
    ``no clear change`` when the difference is within ``tol``), best first.
    The reference row itself has the verdict ``reference``."""
    import pandas as pd

    vals = _values(values, metric)
    if reference not in vals:
        raise KeyError(f"reference {reference!r} is not among the runs {list(vals)}")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, found {tol!r}")
    ref = vals[reference]
    rows = []
    for name, v in vals.items():
        delta = v - ref
        gain = delta if higher_is_better else -delta
        if name == reference:
            verdict = "reference"
        elif gain > tol:
            verdict = "helped"
        elif gain < -tol:
            verdict = "hurt"
        else:
            verdict = "no clear change"
        rows.append({"run": name, metric: v, "vs reference": delta, "verdict": verdict})
    table = pd.DataFrame(rows).set_index("run")
    return table.sort_values(metric, ascending=not higher_is_better)
