"""course_utils.train: fit, evaluate, predict, History, run_experiments, load_or_train."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import config
from course_utils.train import History, Runs, evaluate, fit, load_or_train, predict, run_experiments


def blobs(n=200, seed=0):
    """Two well separated Gaussian blobs in 2-D, labels 0/1."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None] * 2 - 1) * 2.0
    return x, y


def loaders(batch_size=16):
    x, y = blobs()
    xt, yt = blobs(seed=1)
    config.seed_everything(0)
    return (
        DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True),
        DataLoader(TensorDataset(xt, yt), batch_size=64),
    )


def linear_model(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(2, 2)


# ------------------------------------------------------------------------- History
def make_history():
    h = History(name="run", config={"lr": 0.1})
    h.append(
        epoch=1, train_loss=1.0, train_accuracy=0.5, eval_loss=0.9, eval_accuracy=0.6, seconds=1.5
    )
    h.append(
        epoch=2, train_loss=0.5, train_accuracy=0.8, eval_loss=0.7, eval_accuracy=0.7, seconds=2.0
    )
    h.append(
        epoch=3, train_loss=0.3, train_accuracy=0.9, eval_loss=0.8, eval_accuracy=0.65, seconds=2.5
    )
    return h


def test_history_columns_last_best_seconds():
    h = make_history()
    assert len(h) == 3
    assert h["eval_accuracy"] == [0.6, 0.7, 0.65]
    assert h.last("eval_accuracy") == 0.65
    assert h.best("eval_accuracy") == 0.7
    assert h.best("eval_loss", mode="min") == 0.7
    assert h.seconds == pytest.approx(6.0)


def test_history_to_frame_and_summary():
    df = make_history().to_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == [1, 2, 3] and df.index.name == "epoch"
    assert df.loc[2, "train_loss"] == 0.5
    s = make_history().summary()
    assert s["name"] == "run" and s["lr"] == 0.1
    assert s["eval_accuracy"] == 0.65 and s["best_eval_accuracy"] == 0.7
    assert s["seconds"] == pytest.approx(6.0)


def test_history_roundtrip_dict():
    h = make_history()
    assert History.from_dict(h.to_dict()) == h


def test_history_errors():
    with pytest.raises(KeyError, match="History has no 'acc'; it has"):
        make_history()["acc"]
    with pytest.raises(ValueError, match="History 'x' is empty"):
        History(name="x").last("eval_loss")
    with pytest.raises(ValueError, match="mode must be 'max' or 'min', found 'best'"):
        make_history().best("eval_loss", mode="best")
    with pytest.raises(ValueError, match=r"missing \['epochs'\]"):
        History.from_dict({"name": "x", "config": {}})


# ----------------------------------------------------------------------------- fit
def test_fit_converges_on_separable_blobs():
    train, test = loaders()
    model = linear_model()
    before = evaluate(model, test, nn.CrossEntropyLoss())
    history = fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.5),
        epochs=5,
        eval_loader=test,
        progress=False,
        name="blobs",
    )
    assert len(history) == 5 and history.name == "blobs"
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert set(history.epochs[0]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "eval_loss",
        "eval_accuracy",
        "seconds",
    }
    assert history.last("eval_accuracy") >= 0.98
    assert history.last("train_loss") < history["train_loss"][0] < before["loss"] + 1.0
    assert history.last("eval_loss") < before["loss"] / 3
    assert all(s > 0 for s in history["seconds"])


def test_fit_without_eval_records_nan():
    train, _ = loaders()
    model = linear_model()
    h = fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        progress=False,
    )
    assert math.isnan(h.last("eval_accuracy")) and math.isnan(h.last("eval_loss"))
    assert 0 <= h.last("train_accuracy") <= 1


def test_fit_is_deterministic_with_a_seed():
    results = []
    for _ in range(2):
        train, test = loaders()
        model = linear_model()
        h = fit(
            model,
            train,
            nn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1),
            epochs=2,
            eval_loader=test,
            seed=3,
            progress=False,
        )
        results.append((h["train_loss"], h["eval_loss"], model.weight.detach().clone()))
    assert results[0][0] == results[1][0] and results[0][1] == results[1][1]
    assert torch.equal(results[0][2], results[1][2])


def test_fit_uses_config_device(monkeypatch):
    calls = []

    def fake_device(prefer=None):
        calls.append(prefer)
        return torch.device("cpu")

    monkeypatch.setattr(config, "device", fake_device)
    train, _ = loaders()
    model = linear_model()
    fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        progress=False,
    )
    assert calls == [None]


def test_fit_steps_the_scheduler_once_per_epoch_and_clips():
    train, _ = loaders()
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        opt,
        epochs=3,
        scheduler=sched,
        grad_clip=0.1,
        progress=False,
    )
    assert opt.param_groups[0]["lr"] == pytest.approx(0.125)


def test_fit_passes_all_but_the_last_batch_item_to_the_model():
    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x, scale):
            return self.lin(x) * scale[:, None]

    x, y = blobs(64)
    loader = DataLoader(TensorDataset(x, torch.ones(64), y), batch_size=16)
    model = TwoInputs()
    h = fit(
        model,
        loader,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.5),
        epochs=3,
        eval_loader=loader,
        progress=False,
    )
    assert h.last("eval_accuracy") > 0.9


def test_fit_writes_tensorboard_events(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train, test = loaders()
    model = linear_model()
    log_dir = tmp_path / "tb" / "run1"
    h = fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.5),
        epochs=2,
        eval_loader=test,
        log_dir=log_dir,
        progress=False,
    )
    events = list(log_dir.glob("events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"loss/train", "loss/eval", "accuracy/train", "accuracy/eval"} <= tags
    eval_acc = acc.Scalars("accuracy/eval")
    assert [e.step for e in eval_acc] == [1, 2]
    assert [e.value for e in eval_acc] == pytest.approx(h["eval_accuracy"])


def test_fit_log_dir_true_uses_runs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train, _ = loaders()
    model = linear_model()
    fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        log_dir=True,
        name="named",
        progress=False,
    )
    assert list((tmp_path / "runs" / "named").glob("events.out.tfevents.*"))


def test_fit_writes_nothing_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train, _ = loaders()
    model = linear_model()
    fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        progress=False,
    )
    assert list(tmp_path.iterdir()) == []


def test_fit_step_cap_trains_one_epoch_of_at_most_n_steps(monkeypatch, capsys):
    train, test = loaders()  # 200 points in batches of 16: 13 batches per epoch
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps, evaluated = [], []
    opt.register_step_post_hook(lambda *_: steps.append(1))
    model.register_forward_hook(lambda m, args, out: None if m.training else evaluated.append(1))
    monkeypatch.setenv("COURSE_STEP_CAP", "3")
    h = fit(model, train, nn.CrossEntropyLoss(), opt, epochs=4, eval_loader=test, name="capped")
    assert len(steps) == 3, f"{len(steps)} optimizer steps under COURSE_STEP_CAP=3"
    assert len(evaluated) == 4  # the whole eval loader (4 batches of 64), once
    assert len(h) == 1 and h["epoch"] == [1] and h.step_cap == 3
    assert not math.isnan(h.last("eval_accuracy"))
    assert h.summary()["step_cap"] == 3
    assert History.from_dict(h.to_dict()) == h
    out = capsys.readouterr().out
    assert "capped: step cap 3 (COURSE_STEP_CAP): 1 epoch of at most 3 optimizer steps" in out
    assert "instead of 4 epoch(s) of 13 batches" in out


def test_fit_step_cap_larger_than_an_epoch_and_zero_epochs(monkeypatch):
    train, _ = loaders()
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    opt.register_step_post_hook(lambda *_: steps.append(1))
    monkeypatch.setenv("COURSE_STEP_CAP", "1000")
    h = fit(model, train, nn.CrossEntropyLoss(), opt, epochs=3, progress=False)
    assert len(steps) == 13 and len(h) == 1  # one whole epoch, not three
    assert len(fit(model, train, nn.CrossEntropyLoss(), opt, epochs=0, progress=False)) == 0
    monkeypatch.setenv("COURSE_STEP_CAP", "0")
    with pytest.raises(ValueError, match="COURSE_STEP_CAP must be a positive integer"):
        fit(model, train, nn.CrossEntropyLoss(), opt, epochs=1, progress=False)


def test_fit_without_step_cap_is_not_capped(monkeypatch):
    monkeypatch.delenv("COURSE_STEP_CAP", raising=False)
    train, _ = loaders()
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    opt.register_step_post_hook(lambda *_: steps.append(1))
    h = fit(model, train, nn.CrossEntropyLoss(), opt, epochs=2, progress=False)
    assert len(steps) == 26 and len(h) == 2 and h.step_cap is None
    assert "step_cap" not in h.to_dict() and "step_cap" not in h.summary()


def test_fit_bad_input():
    train, _ = loaders()
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs must be an int >= 0, found 2.5"):
        fit(model, train, nn.CrossEntropyLoss(), opt, epochs=2.5)
    with pytest.raises(TypeError, match="expected a torch.optim.Optimizer, found float"):
        fit(model, train, nn.CrossEntropyLoss(), 0.1)
    x, _ = blobs(8)
    bare = DataLoader(x, batch_size=4)  # batches are plain tensors, no target
    with pytest.raises(
        TypeError, match=r"expected each batch as a tuple \(inputs\.\.\., target\), found Tensor"
    ):
        fit(model, bare, nn.CrossEntropyLoss(), opt, progress=False)


# ------------------------------------------------------------------------ evaluate
def fixed_model():
    """Predicts class 1 when x[0] > 0, with known logits."""
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
        model.bias.zero_()
    return model


def test_evaluate_known_values_over_uneven_batches():
    x = torch.tensor([[1.0, 0], [2.0, 0], [-1.0, 0], [-3.0, 0], [0.5, 0]])
    y = torch.tensor([1, 1, 1, 0, 0])  # predictions 1, 1, 0, 0, 1 -> 3 of 5 correct
    loader = DataLoader(TensorDataset(x, y), batch_size=2)  # batches of 2, 2, 1
    out = evaluate(fixed_model(), loader, nn.CrossEntropyLoss())
    assert out["accuracy"] == pytest.approx(3 / 5)  # per-batch mean would be (1 + 0.5 + 0) / 3
    expected_loss = nn.functional.cross_entropy(fixed_model()(x), y).item()
    assert out["loss"] == pytest.approx(expected_loss)
    assert out["n"] == 5


def test_evaluate_sets_eval_mode_and_no_grad():
    model = nn.Sequential(nn.Dropout(0.9), fixed_model())
    x = torch.tensor([[1.0, 0], [-1.0, 0]] * 20)
    y = torch.tensor([1, 0] * 20)
    out = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=8))
    assert out["accuracy"] == 1.0 and math.isnan(out["loss"])
    assert not model.training


def test_evaluate_sequence_targets_skip_ignore_index():
    class PerToken(nn.Module):
        def forward(self, x):  # x [B, T] -> logits [B, T, 2] favouring class x
            return torch.stack([1 - x, x], dim=-1).float()

    x = torch.tensor([[1, 0, 1], [0, 0, 1]])
    y = torch.tensor([[1, 1, -100], [0, -100, -100]])  # counted: 1 ok, 0 wrong, 0 ok -> 2/3
    out = evaluate(PerToken(), DataLoader(TensorDataset(x, y), batch_size=2))
    assert out["accuracy"] == pytest.approx(2 / 3)


def test_predict_returns_numpy_predictions_and_targets():
    x = torch.tensor([[1.0, 0], [-2.0, 0], [3.0, 0]])
    y = torch.tensor([1, 1, 1])
    pred, target = predict(fixed_model(), DataLoader(TensorDataset(x, y), batch_size=2))
    assert pred.tolist() == [1, 0, 1] and target.tolist() == [1, 1, 1]


# ---------------------------------------------------------------- run_experiments
def train_blobs(lr=0.1, epochs=1):
    train, test = loaders()
    model = nn.Linear(2, 2)  # initialised from the seed run_experiments set
    return fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=lr),
        epochs=epochs,
        eval_loader=test,
        progress=False,
    )


def test_run_experiments_seeds_every_run_the_same():
    runs = run_experiments(
        {"a": {"lr": 0.05}, "b": {"lr": 0.05}, "c": {"lr": 0.5, "epochs": 2}},
        train_blobs,
        progress=False,
    )
    assert isinstance(runs, Runs) and list(runs) == ["a", "b", "c"]
    assert runs["a"].epochs[0]["train_loss"] == runs["b"].epochs[0]["train_loss"]
    assert runs["c"].name == "c" and runs["c"].config == {"lr": 0.5, "epochs": 2}
    assert len(runs["c"]) == 2


def test_runs_summary_and_best():
    runs = run_experiments(
        {"slow": {"lr": 0.001}, "fast": {"lr": 0.5, "epochs": 2}}, train_blobs, progress=False
    )
    table = runs.summary()
    assert list(table.index) == ["slow", "fast"]
    assert {"lr", "epochs", "train_loss", "eval_accuracy", "best_eval_accuracy", "seconds"} <= set(
        table.columns
    )
    assert table.loc["fast", "eval_accuracy"] > table.loc["slow", "eval_accuracy"]
    assert runs.best("eval_accuracy") == "fast"
    assert runs.best("eval_loss", mode="min") == "fast"


def test_run_experiments_bad_input():
    with pytest.raises(ValueError, match="expected a non-empty dict name -> config dict"):
        run_experiments({}, train_blobs)
    with pytest.raises(
        TypeError, match="config 'a' must be a dict of keyword arguments, found float"
    ):
        run_experiments({"a": 0.1}, train_blobs)
    with pytest.raises(TypeError, match="must return a History .* found float for config 'a'"):
        run_experiments({"a": {}}, lambda: 0.5, progress=False)
    with pytest.raises(ValueError, match="Runs is empty"):
        Runs().best()


# ------------------------------------------------------------------ load_or_train
def test_load_or_train_trains_once_then_loads(tmp_path, capsys):
    path = tmp_path / "ckpt" / "blobs.pt"
    calls = []

    def train_fn(model):
        def run():
            calls.append(1)
            train, test = loaders()
            return fit(
                model,
                train,
                nn.CrossEntropyLoss(),
                torch.optim.SGD(model.parameters(), lr=0.5),
                epochs=2,
                eval_loader=test,
                progress=False,
            )

        return run

    trained = linear_model(seed=1)
    h1 = load_or_train(trained, path, train_fn(trained))
    assert path.exists() and calls == [1]
    fresh = linear_model(seed=2)
    assert not torch.equal(fresh.weight, trained.weight)
    h2 = load_or_train(fresh, path, train_fn(fresh))
    assert calls == [1]  # not retrained
    assert torch.equal(fresh.weight, trained.weight)
    assert h2 == h1
    assert "loaded" in capsys.readouterr().out


def test_load_or_train_rejects_foreign_files(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state": 1}, path)
    with pytest.raises(
        ValueError,
        match=r"not a weights and history checkpoint .*found a dict with keys \['state'\]\); "
        "delete it to retrain",
    ):
        load_or_train(linear_model(), path, lambda: History())


def test_load_or_train_requires_a_history(tmp_path):
    with pytest.raises(TypeError, match="train\\(\\) must return a History, found NoneType"):
        load_or_train(copy.deepcopy(linear_model()), tmp_path / "x.pt", lambda: None)
    assert not (tmp_path / "x.pt").exists()


def test_n_params_counts_every_or_only_trainable_parameters():
    from course_utils.train import n_params

    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2, bias=False))
    assert n_params(net) == 3 * 4 + 4 + 4 * 2
    net[0].requires_grad_(False)
    assert n_params(net, trainable_only=True) == 8
    assert n_params(net) == 24
    with pytest.raises(TypeError, match="expects a torch.nn.Module, found list"):
        n_params([torch.zeros(3)])


# ----------------------------------------------------------------------- callbacks
def test_epoch_metric_keep_best_and_plateau_scheduler():
    """What nlp/04 needs from fit: an extra metric per epoch, the best epoch's weights
    back at the end, a ReduceLROnPlateau stepped on that metric."""
    from course_utils.train import EpochMetric, KeepBest

    train, valid = loaders()
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0, factor=0.5)
    # a metric that peaks at epoch 2 and falls after: KeepBest must restore epoch 2's weights
    scores = iter([0.2, 0.9, 0.4, 0.3])
    weights = {}

    def score(m):
        weights[len(weights) + 1] = m.weight.detach().clone()
        assert not m.training and not torch.is_grad_enabled()
        return next(scores)

    keep = KeepBest("valid_score")
    h = fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        opt,
        4,
        eval_loader=valid,
        device="cpu",
        progress=False,
        scheduler=sched,
        scheduler_metric="valid_score",
        callbacks=[EpochMetric("valid_score", score), keep],
    )
    assert h["valid_score"] == [0.2, 0.9, 0.4, 0.3]
    assert (keep.best_epoch, keep.best_value) == (2, 0.9)
    assert torch.equal(model.weight, weights[2])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.125)  # halved after epochs 3 and 4


def test_early_stopping_stops_and_says_when():
    from course_utils.train import EarlyStopping, EpochMetric

    train, valid = loaders()
    values = iter([1.0, 0.5, 0.6, 0.55, 0.7, 0.1])
    stop = EarlyStopping("metric", patience=2, mode="min")
    h = fit(
        linear_model(),
        train,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(linear_model().parameters(), lr=0.1),
        6,
        device="cpu",
        progress=False,
        callbacks=[EpochMetric("metric", lambda m: next(values)), stop],
    )
    assert len(h) == 4 and stop.stopped_epoch == 4 and stop.best == 0.5


def test_callback_errors_are_clear():
    from course_utils.train import EarlyStopping, KeepBest

    train, _ = loaders()
    model = linear_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(KeyError, match="no 'bleu'.*EpochMetric"):
        fit(
            model,
            train,
            nn.CrossEntropyLoss(),
            opt,
            1,
            device="cpu",
            progress=False,
            callbacks=[KeepBest("bleu")],
        )
    with pytest.raises(TypeError, match="Callback objects, found function"):
        fit(
            model,
            train,
            nn.CrossEntropyLoss(),
            opt,
            1,
            device="cpu",
            progress=False,
            callbacks=[lambda *a: None],
        )
    with pytest.raises(ValueError, match="patience must be an int >= 1"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode must be 'max' or 'min'"):
        KeepBest(mode="best")
