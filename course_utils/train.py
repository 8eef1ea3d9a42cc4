"""Training plumbing: a training loop, evaluation, a history, experiment grids.

The model, the loss and the optimiser stay in the notebook; these helpers only
run the loop, measure, show progress and keep the numbers::

    history = fit(model, train_loader, loss_fn, optimizer, epochs=5, eval_loader=test_loader)
    history.to_frame()                      # one row per epoch
    evaluate(model, test_loader, loss_fn)   # {"loss": ..., "accuracy": ..., "n": ...}

Batches follow one convention: a tuple ``(input_1, ..., input_k, target)``;
the model is called as ``model(input_1, ..., input_k)`` and the loss as
``loss_fn(output, target)``. Tensors are moved to :func:`course_utils.config.device`.

A grid of hyper-parameters runs with :func:`run_experiments`, which seeds every
run the same way and returns a :class:`Runs` (a dict ``name -> History`` with a
``summary()`` table).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from course_utils import checkpoint, config

__all__ = [
    "History",
    "Runs",
    "evaluate",
    "fit",
    "load_or_train",
    "predict",
    "run_experiments",
]

IGNORE_INDEX = (
    -100
)  # targets equal to this are left out of the accuracy (as in nn.CrossEntropyLoss)


def _progress_bar():
    """``tqdm.auto`` where notebook widgets work, else the text bar (no warning)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm
    return tqdm


# --------------------------------------------------------------------------- History
@dataclass
class History:
    """Per-epoch numbers of one training run.

    ``epochs`` holds one dict per epoch with ``epoch``, ``train_loss``,
    ``train_accuracy``, ``eval_loss``, ``eval_accuracy`` (NaN where not
    measured) and ``seconds`` (wall time of the epoch, evaluation included).
    ``step_cap`` is N when the run was cut short by ``COURSE_STEP_CAP=N`` (see
    :func:`fit`), else None.
    """

    name: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    epochs: list[dict[str, float]] = field(default_factory=list)
    step_cap: int | None = None

    def append(self, **record: float) -> None:
        self.epochs.append(dict(record))

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list[float]:
        """One column, e.g. ``history["eval_accuracy"]`` (one value per epoch)."""
        if self.epochs and key not in self.epochs[0]:
            raise KeyError(f"History has no {key!r}; it has {list(self.epochs[0])}")
        return [row.get(key, math.nan) for row in self.epochs]

    def last(self, key: str) -> float:
        """The value of ``key`` after the last epoch."""
        if not self.epochs:
            raise ValueError(f"History {self.name!r} is empty: no epoch was recorded")
        return self[key][-1]

    def best(self, key: str = "eval_accuracy", mode: str = "max") -> float:
        """The best value of ``key`` over the epochs (``mode`` 'max' or 'min')."""
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', found {mode!r}")
        values = [v for v in self[key] if not math.isnan(v)]
        if not values:
            raise ValueError(f"History {self.name!r} has no {key!r} values")
        return max(values) if mode == "max" else min(values)

    @property
    def seconds(self) -> float:
        """Total wall time of the recorded epochs."""
        return float(sum(row.get("seconds", 0.0) for row in self.epochs))

    def to_frame(self):
        """A pandas DataFrame, one row per epoch (indexed by ``epoch``)."""
        import pandas as pd

        df = pd.DataFrame(self.epochs)
        return df.set_index("epoch") if "epoch" in df else df

    def summary(self) -> dict[str, Any]:
        """One flat row: name, config, last-epoch metrics, best eval accuracy, seconds."""
        row: dict[str, Any] = {"name": self.name, **self.config}
        if self.epochs:
            for key, value in self.epochs[-1].items():
                if key not in ("seconds",):
                    row[key] = value
            if "eval_accuracy" in self.epochs[0]:
                acc = [v for v in self["eval_accuracy"] if not math.isnan(v)]
                row["best_eval_accuracy"] = max(acc) if acc else math.nan
        row["seconds"] = self.seconds
        if self.step_cap is not None:
            row["step_cap"] = self.step_cap
        return row

    def to_dict(self) -> dict[str, Any]:
        state = {
            "name": self.name,
            "config": dict(self.config),
            "epochs": [dict(r) for r in self.epochs],
        }
        if self.step_cap is not None:
            state["step_cap"] = self.step_cap
        return state

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> History:
        missing = {"name", "config", "epochs"} - set(state)
        if missing:
            raise ValueError(
                f"History.from_dict expected keys name, config, epochs; missing {sorted(missing)}"
            )
        return cls(
            name=state["name"],
            config=dict(state["config"]),
            epochs=[dict(r) for r in state["epochs"]],
            step_cap=state.get("step_cap"),
        )


# ------------------------------------------------------------------ callbacks
class Callback:
    """Hooks into :func:`fit`. After every epoch ``on_epoch_end(epoch, record, model)``
    may add numbers to ``record`` (they go into the History, the progress bar and
    TensorBoard) and returns True to stop training; ``on_train_end(model, history)``
    runs once at the end (also when a callback stopped the run)."""

    def on_epoch_end(self, epoch: int, record: dict, model: torch.nn.Module) -> bool | None:
        return None

    def on_train_end(self, model: torch.nn.Module, history: History) -> None:
        return None


def _better(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value > best + min_delta if mode == "max" else value < best - min_delta


def _check_mode(mode: str) -> str:
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', found {mode!r}")
    return mode


def _monitored(record: dict, monitor: str, who: str) -> float:
    if monitor not in record:
        raise KeyError(
            f"{who}: the epoch record has no {monitor!r}; it has {sorted(record)} "
            "(an EpochMetric callback listed before it can add one)"
        )
    return float(record[monitor])


class EpochMetric(Callback):
    """Adds ``name`` = ``fn(model)`` to every epoch's record (for example the validation
    BLEU of greedy decoding). ``fn`` runs with the model in eval mode and no gradients."""

    def __init__(self, name: str, fn: Callable[[torch.nn.Module], float]):
        self.name, self.fn = name, fn

    def on_epoch_end(self, epoch, record, model):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            record[self.name] = float(self.fn(model))
        model.train(was_training)


class KeepBest(Callback):
    """Keeps a copy of the weights of the best epoch by ``monitor`` and puts them back in
    the model when training ends; ``best_epoch`` and ``best_value`` say which it was."""

    def __init__(self, monitor: str = "eval_accuracy", mode: str = "max"):
        self.monitor, self.mode = monitor, _check_mode(mode)
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self._state: dict | None = None

    def on_epoch_end(self, epoch, record, model):
        value = _monitored(record, self.monitor, "KeepBest")
        if _better(value, self.best_value, self.mode):
            self.best_value, self.best_epoch = value, epoch
            self._state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def on_train_end(self, model, history):
        if self._state is not None:
            model.load_state_dict(self._state)


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row; ``stopped_epoch`` says when (None: it ran to the end)."""

    def __init__(
        self,
        monitor: str = "eval_loss",
        patience: int = 3,
        mode: str = "min",
        min_delta: float = 0.0,
    ):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an int >= 1, found {patience!r}")
        self.monitor, self.patience, self.mode = monitor, patience, _check_mode(mode)
        self.min_delta = min_delta
        self.best: float | None = None
        self.bad_epochs = 0
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, record, model):
        value = _monitored(record, self.monitor, "EarlyStopping")
        if _better(value, self.best, self.mode, self.min_delta):
            self.best, self.bad_epochs = value, 0
            return False
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False


class Runs(dict):
    """Histories of several runs, ``name -> History``, with a summary table."""

    def summary(self):
        """A DataFrame, one row per run (indexed by name): config, last-epoch
        metrics, best eval accuracy, seconds."""
        import pandas as pd

        if not self:
            return pd.DataFrame()
        rows = []
        for name, hist in self.items():
            row = hist.summary()
            row["name"] = name
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")

    def best(self, key: str = "eval_accuracy", mode: str = "max") -> str:
        """The name of the run whose last-epoch ``key`` is best."""
        if not self:
            raise ValueError("Runs is empty: nothing to choose from")
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', found {mode!r}")
        pick = max if mode == "max" else min
        return pick(self, key=lambda name: self[name].last(key))


# ------------------------------------------------------------------ the loop itself
def _split_batch(batch, where: str):
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError(
            f"{where} expected each batch as a tuple (inputs..., target), "
            f"found {type(batch).__name__}"
            + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
        )
    *inputs, target = batch
    return inputs, target


def _to(x, dev):
    return x.to(dev, non_blocking=True) if isinstance(x, torch.Tensor) else x


def _correct(output: torch.Tensor, target: torch.Tensor) -> tuple[int, int]:
    """(number correct, number counted) for integer targets, else (0, 0).

    Logits ``[..., classes]`` against targets ``[...]`` (argmax), or one logit
    per item against 0/1 targets (threshold at 0). Targets equal to -100 are
    skipped (padding in sequence labelling).
    """
    if not isinstance(output, torch.Tensor) or not isinstance(target, torch.Tensor):
        return 0, 0
    if target.is_floating_point() or target.dtype == torch.bool:
        return 0, 0
    if output.dim() == target.dim() + 1 and output.shape[:-1] == target.shape:
        pred = output.argmax(dim=-1) if output.shape[-1] > 1 else (output[..., 0] > 0).long()
    elif output.shape == target.shape:
        pred = (output > 0).long()
    else:
        return 0, 0
    keep = target != IGNORE_INDEX
    return int(((pred == target) & keep).sum()), int(keep.sum())


def _batch_size(target) -> int:
    return len(target) if hasattr(target, "__len__") else 1


def _run_epoch(
    model, loader, loss_fn, dev, optimizer=None, grad_clip=None, bar=None, max_batches=None
) -> dict[str, float]:
    """One pass over ``loader`` (its first ``max_batches`` batches when given); trains when
    an optimizer is given."""
    training = optimizer is not None
    model.train(training)
    total_loss, n_loss, correct, counted = 0.0, 0, 0, 0
    with torch.set_grad_enabled(training):
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            inputs, target = _split_batch(batch, "fit" if training else "evaluate")
            inputs = [_to(x, dev) for x in inputs]
            target = _to(target, dev)
            output = model(*inputs)
            if loss_fn is not None:
                loss = loss_fn(output, target)
                if training:
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if grad_clip is not None:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                    optimizer.step()
                n = _batch_size(target)
                total_loss += float(loss.detach()) * n
                n_loss += n
            c, k = _correct(output.detach(), target)
            correct, counted = correct + c, counted + k
            if bar is not None:
                bar.update(1)
    return {
        "loss": total_loss / n_loss if n_loss else math.nan,
        "accuracy": correct / counted if counted else math.nan,
        "n": n_loss or counted,
    }


def _writer(log_dir, name: str):
    if log_dir is None or log_dir is False:
        return None
    if log_dir is True:
        log_dir = Path("runs") / (name or "run")
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(log_dir))


_STANDARD_KEYS = {"epoch", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "seconds"}


def fit(
    model: torch.nn.Module,
    train_loader,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    epochs: int = 1,
    *,
    eval_loader=None,
    scheduler=None,
    grad_clip: float | None = None,
    device: torch.device | str | None = None,
    log_dir: str | os.PathLike | bool | None = None,
    name: str = "",
    seed: int | None = None,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    scheduler_metric: str | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return a :class:`History`.

    - ``eval_loader``: evaluated after every epoch (``eval_loss``, ``eval_accuracy``).
    - ``scheduler``: a learning-rate scheduler, stepped once per epoch.
    - ``grad_clip``: clip the gradient norm to this value before each step.
    - ``device``: defaults to :func:`course_utils.config.device` (CUDA if present).
    - ``log_dir``: write TensorBoard scalars there (``True``: ``runs/<name>``;
      default: no logging).
    - ``seed``: re-seed (:func:`course_utils.config.seed_everything`) before the
      first epoch, which fixes the shuffling order and the dropout masks.
    - ``callbacks``: :class:`Callback` objects run after every epoch, in order:
      :class:`EpochMetric` (an extra number per epoch), :class:`KeepBest` (the best
      epoch's weights back at the end), :class:`EarlyStopping`.
    - ``scheduler_metric``: step the scheduler once per epoch with this record value
      (for ``ReduceLROnPlateau``), after the callbacks; without it the scheduler steps
      after each training epoch with no argument.

    ``train_loss`` and ``train_accuracy`` are averages over the epoch's batches
    while the model trains (dropout on), not a second pass over the data.

    **Step cap.** With ``COURSE_STEP_CAP=N`` in the environment
    (:func:`course_utils.config.step_cap`; the full-mode test pass sets it) ``fit`` runs
    at most one epoch (``min(epochs, 1)``) and stops that epoch after N batches (N optimizer
    steps). The rest runs as usual: the whole ``eval_loader`` is evaluated after the epoch,
    callbacks, scheduler and logging too. It prints one line saying so and sets
    ``history.step_cap = N``.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, found {epochs!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"fit expected a torch.optim.Optimizer, found {type(optimizer).__name__}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback objects, found {type(cb).__name__}")
    cap = config.step_cap()
    if seed is not None:
        config.seed_everything(seed)
    dev = torch.device(device) if device is not None else config.device()
    model.to(dev)
    history = History(name=name, step_cap=cap)
    writer = _writer(log_dir, name)
    tqdm = _progress_bar()
    try:
        n_batches = len(train_loader)
    except TypeError:  # an iterable without a length
        n_batches = None
    if cap is not None:
        asked = f"{epochs} epoch(s)" + (f" of {n_batches} batches" if n_batches else "")
        epochs = min(epochs, 1)
        n_batches = min(n_batches, cap) if n_batches is not None else cap
        print(
            f"{name or 'fit'}: step cap {cap} (COURSE_STEP_CAP): {epochs} epoch of at most "
            f"{cap} optimizer steps instead of {asked}"
        )
    # One bar for the whole run, counted in batches; the epoch and the latest
    # metrics are shown beside it.
    bar = tqdm(
        total=n_batches * epochs if n_batches is not None else None,
        desc=name or "fit",
        unit="batch",
        disable=not progress,
        leave=True,
    )
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            bar.set_description(f"{name + ' ' if name else ''}epoch {epoch}/{epochs}")
            train = _run_epoch(
                model, train_loader, loss_fn, dev, optimizer, grad_clip, bar, max_batches=cap
            )
            if scheduler is not None and scheduler_metric is None:
                scheduler.step()
            if eval_loader is not None:
                ev = _run_epoch(model, eval_loader, loss_fn, dev)
            else:
                ev = {"loss": math.nan, "accuracy": math.nan}
            record = {
                "epoch": epoch,
                "train_loss": train["loss"],
                "train_accuracy": train["accuracy"],
                "eval_loss": ev["loss"],
                "eval_accuracy": ev["accuracy"],
                "seconds": time.perf_counter() - start,
            }
            stop = False
            for cb in callbacks:
                stop = bool(cb.on_epoch_end(epoch, record, model)) or stop
            if scheduler is not None and scheduler_metric is not None:
                scheduler.step(_monitored(record, scheduler_metric, "fit(scheduler_metric=...)"))
            record["seconds"] = time.perf_counter() - start  # the callbacks' time included
            history.append(**record)
            bar.set_postfix(
                {
                    k: f"{v:.4f}"
                    for k, v in record.items()
                    if k not in ("epoch", "train_accuracy", "seconds") and not math.isnan(v)
                }
            )
            if writer is not None:
                for key in ("loss", "accuracy"):
                    for part in ("train", "eval"):
                        value = record[f"{part}_{key}"]
                        if not math.isnan(value):
                            writer.add_scalar(f"{key}/{part}", value, epoch)
                writer.add_scalar("time/epoch_seconds", record["seconds"], epoch)
                for key in set(record) - _STANDARD_KEYS:  # what callbacks added
                    writer.add_scalar(f"extra/{key}", record[key], epoch)
            if stop:
                bar.write(f"{name or 'fit'}: stopped after epoch {epoch} by a callback")
                break
        for cb in callbacks:
            cb.on_train_end(model, history)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return history


def evaluate(
    model: torch.nn.Module,
    loader,
    loss_fn: Callable | None = None,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no gradients).

    Returns ``{"loss": ..., "accuracy": ..., "n": number of examples}``; the
    loss is NaN without ``loss_fn``, the accuracy is NaN for non-integer targets.
    Accuracy = (number of argmax predictions equal to the target) / (number of
    targets), counted over the whole loader, not averaged per batch.
    """
    dev = torch.device(device) if device is not None else config.device()
    model.to(dev)
    out = _run_epoch(model, loader, loss_fn, dev)
    return {"loss": out["loss"], "accuracy": out["accuracy"], "n": out["n"]}


@torch.no_grad()
def predict(model: torch.nn.Module, loader, device: torch.device | str | None = None):
    """Predicted classes (argmax of the outputs) and targets over ``loader``, as
    two NumPy arrays, e.g. for a confusion matrix."""
    dev = torch.device(device) if device is not None else config.device()
    model.to(dev).eval()
    preds, targets = [], []
    for batch in loader:
        inputs, target = _split_batch(batch, "predict")
        output = model(*[_to(x, dev) for x in inputs])
        if output.dim() < 2:
            raise ValueError(
                f"predict expected outputs [batch, classes], found shape {tuple(output.shape)}"
            )
        preds.append(output.argmax(dim=-1).cpu())
        targets.append(torch.as_tensor(target).cpu())
    return torch.cat(preds).numpy(), torch.cat(targets).numpy()


# ------------------------------------------------------------------ experiment grids
def run_experiments(
    configs: Mapping[str, Mapping[str, Any]],
    build_and_train: Callable[..., History],
    *,
    seed: int = config.DEFAULT_SEED,
    progress: bool = True,
    desc: str = "experiments",
) -> Runs:
    """Run ``build_and_train(**config)`` for each named config; return a :class:`Runs`.

    Every run starts from the same seed, so runs differ only by their config.
    ``build_and_train`` builds the model, trains it (usually with :func:`fit`)
    and returns its :class:`History`; the run's name and config are stored on it::

        runs = run_experiments({"small": dict(hidden=32), "big": dict(hidden=128)}, train_rnn)
        runs.summary()     # one row per run
    """
    if not isinstance(configs, Mapping) or not configs:
        raise ValueError(
            "run_experiments expected a non-empty dict name -> config dict, "
            f"found {type(configs).__name__} {configs!r:.80}"
        )
    for name, cfg in configs.items():
        if not isinstance(cfg, Mapping):
            raise TypeError(
                f"run_experiments: config {name!r} must be a dict of keyword arguments, "
                f"found {type(cfg).__name__}"
            )
    tqdm = _progress_bar()
    runs = Runs()
    bar = tqdm(configs.items(), total=len(configs), desc=desc, unit="run", disable=not progress)
    for name, cfg in bar:
        bar.set_postfix_str(str(name))
        config.seed_everything(seed)
        history = build_and_train(**cfg)
        if not isinstance(history, History):
            raise TypeError(
                f"run_experiments: build_and_train must return a History (from fit), "
                f"found {type(history).__name__} for config {name!r}"
            )
        history.name = str(name)
        history.config = {**history.config, **cfg}
        runs[name] = history
    bar.close()
    return runs


# ---------------------------------------------------------------------- checkpoints
def load_or_train(
    model: torch.nn.Module,
    path: str | os.PathLike,
    train: Callable[[], History],
    device: torch.device | str | None = None,
) -> History:
    """Load ``model``'s weights from ``path`` if that file exists, else call
    ``train()`` (which trains ``model`` in place and returns its History) and save
    the weights and the history to ``path`` (a :mod:`course_utils.checkpoint` of kind
    ``"weights and history"``). Returns the History either way."""
    path = Path(path)
    dev = torch.device(device) if device is not None else config.device()
    if path.exists():
        try:
            state = checkpoint.load(path, "weights and history", map_location=dev)
        except checkpoint.CheckpointError as err:
            raise checkpoint.CheckpointError(f"{err}; delete it to retrain") from None
        model.load_state_dict(state["model"])
        model.to(dev)
        history = History.from_dict(state["history"])
        print(f"loaded {path} ({len(history)} epochs trained earlier); delete it to retrain")
        return history
    history = train()
    if not isinstance(history, History):
        raise TypeError(
            f"load_or_train: train() must return a History, found {type(history).__name__}"
        )
    checkpoint.save(
        path, "weights and history", model=model.state_dict(), history=history.to_dict()
    )
    return history


def n_params(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """The number of parameters of ``model`` (only those with ``requires_grad`` when
    ``trainable_only``): the size to quote beside an architecture."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"n_params expects a torch.nn.Module, found {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
