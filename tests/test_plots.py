"""course_utils.plots: learning curves, confusion matrix, comparison chart and table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils.plots import (  # noqa: E402
    comparison_table,
    plot_comparison,
    plot_confusion_matrix,
    plot_history,
)
from course_utils.train import History, Runs  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history(name, accs, with_eval=True):
    h = History(name=name)
    for i, a in enumerate(accs, start=1):
        nan = float("nan")
        h.append(
            epoch=i,
            train_loss=1 - a,
            train_accuracy=a,
            eval_loss=(1.1 - a) if with_eval else nan,
            eval_accuracy=(a - 0.05) if with_eval else nan,
            seconds=0.1,
        )
    return h


def test_plot_history_many_runs_layout_and_colours():
    runs = Runs({"rnn": history("rnn", [0.5, 0.6, 0.7]), "gru": history("gru", [0.6, 0.7, 0.8])})
    fig = plot_history(runs, title="cells")
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 4  # loss and accuracy rows, train and eval columns
    assert [ax.get_title() for ax in axes] == [
        "train loss",
        "eval loss",
        "train accuracy",
        "eval accuracy",
    ]
    # one line per run per panel, same colour for the same run everywhere
    for ax in axes:
        assert [line.get_label() for line in ax.get_lines()] == ["rnn", "gru"]
    colours = {tuple(to_hex(line.get_color()) for line in ax.get_lines()) for ax in axes}
    assert (
        len(colours) == 1 and len(next(iter(colours))) == 2 and len(set(next(iter(colours)))) == 2
    )
    # the plotted data are the history's numbers
    eval_acc = axes[3].get_lines()[1]
    assert list(eval_acc.get_xdata()) == [1, 2, 3]
    assert list(eval_acc.get_ydata()) == pytest.approx([0.55, 0.65, 0.75])
    assert fig._suptitle.get_text() == "cells"
    # train and eval panels of a row share their y axis
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])


def test_plot_history_single_history_list_and_one_epoch():
    fig = plot_history(history("only", [0.4]))
    assert fig.axes[0].get_lines()[0].get_label() == "only"
    lo, hi = fig.axes[0].get_xlim()
    assert lo < 1 < hi and hi - lo <= 1.0  # a one-epoch run still shows around epoch 1
    fig = plot_history([history("a", [0.4, 0.5]), history("b", [0.3, 0.6])], metrics=("accuracy",))
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "train accuracy"


def test_plot_history_without_eval_has_train_panels_only():
    fig = plot_history(history("t", [0.2, 0.4], with_eval=False))
    assert [ax.get_title() for ax in fig.axes] == ["train loss", "train accuracy"]


def test_plot_history_bad_input():
    with pytest.raises(
        TypeError,
        match="expected a History, a list of Histories or a dict name -> History, found int",
    ):
        plot_history(3)
    with pytest.raises(TypeError, match="expected History objects .* found dict for 'a'"):
        plot_history({"a": {"eval_accuracy": [0.5]}})
    with pytest.raises(ValueError, match="no histories were given"):
        plot_history({})
    with pytest.raises(KeyError, match="run 'a' has no 'train_f1'"):
        plot_history({"a": history("a", [0.5])}, metrics=("f1",))


def test_plot_confusion_matrix_counts_and_normalisation():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 1, 0]
    fig = plot_confusion_matrix(y_true, y_pred, labels=["a", "b", "c"], normalize=False)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    shown = ax.get_images()[0].get_array()
    assert np.asarray(shown).tolist() == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert "accuracy 0.667" in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["2", "1", "0"]

    fig = plot_confusion_matrix(y_true, y_pred, normalize=True, title="norm")
    shown = np.asarray(fig.axes[0].get_images()[0].get_array())
    assert shown.sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert fig.axes[0].get_title() == "norm"


def test_plot_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="same length, found 3 and 2"):
        plot_confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        plot_confusion_matrix([], [])
    with pytest.raises(ValueError, match="y_pred must hold class indices 0..n-1"):
        plot_confusion_matrix([0, 1], [0.5, 1.0])
    with pytest.raises(ValueError, match="labels names 2 classes, but the data has class index 2"):
        plot_confusion_matrix([0, 1, 2], [0, 1, 2], labels=["a", "b"])


def test_plot_comparison_sorted_bars_labels_and_baseline():
    fig = plot_comparison({"rnn": 0.80, "gru": 0.90, "lstm": 0.85}, baseline={"tf-idf": 0.88})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["rnn", "lstm", "gru"]  # best on top
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([0.80, 0.85, 0.90])
    assert any("0.9000" in t.get_text() for t in ax.texts)
    assert ax.get_legend().get_texts()[0].get_text() == "tf-idf 0.8800"
    left, _ = ax.get_xlim()
    assert 0 < left < 0.80 and "axis starts at" in ax.get_xlabel()


def test_plot_comparison_accepts_runs_and_dataframes():
    runs = Runs({"a": history("a", [0.5, 0.7]), "b": history("b", [0.6, 0.9])})
    fig = plot_comparison(runs, metric="eval_accuracy", zoom=False)
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.65, 0.85])
    assert ax.get_xlabel() == "eval_accuracy"
    df = pd.DataFrame({"acc": [0.3, 0.2]}, index=["x", "y"])
    assert [t.get_text() for t in plot_comparison(df, metric="acc").axes[0].get_yticklabels()] == [
        "y",
        "x",
    ]
    with pytest.raises(KeyError, match="no column 'f1'"):
        plot_comparison(df, metric="f1")
    with pytest.raises(TypeError, match="value for 'x' must be a number, found 'high'"):
        plot_comparison({"x": "high"})
    with pytest.raises(ValueError, match="nothing to compare"):
        plot_comparison({})


def test_comparison_table_verdicts():
    values = {"base": 0.80, "better": 0.85, "worse": 0.70, "same": 0.805}
    table = comparison_table(values, reference="base", metric="acc", tol=0.01)
    assert list(table.index) == ["better", "same", "base", "worse"]
    assert table.loc["better", "verdict"] == "helped"
    assert table.loc["worse", "verdict"] == "hurt"
    assert table.loc["same", "verdict"] == "no clear change"
    assert table.loc["base", "verdict"] == "reference"
    assert table.loc["better", "vs reference"] == pytest.approx(0.05)
    losses = comparison_table(
        {"base": 1.0, "lower": 0.5}, reference="base", metric="loss", higher_is_better=False
    )
    assert losses.loc["lower", "verdict"] == "helped"
    with pytest.raises(KeyError, match="reference 'nope' is not among the runs"):
        comparison_table(values, reference="nope")
    with pytest.raises(ValueError, match="tol must be >= 0"):
        comparison_table(values, reference="base", tol=-1)


def test_comparison_table_from_histories():
    runs = {"a": history("a", [0.5, 0.7]), "b": history("b", [0.6, 0.9])}
    table = comparison_table(runs, reference="a", metric="eval_accuracy")
    assert table.loc["b", "eval_accuracy"] == pytest.approx(0.85)
    assert table.loc["b", "verdict"] == "helped"
