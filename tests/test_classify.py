"""course_utils.vision.classify and `course classify`: checkpoint format, labelling a folder, CLI errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.models import get_model

from course_utils.tools import cli
from course_utils.vision.classify import (
    CheckpointError,
    classify_folder,
    find_head,
    load_classifier,
    save_classifier,
)
from course_utils.vision.images import NoImagesError, UnreadableImageError

SIZE = 32


def _tiny_model():
    """A randomly initialised torchvision mobilenet_v3_small with a new 2-class head."""
    torch.manual_seed(0)
    model = get_model("mobilenet_v3_small", weights=None)
    name, head = find_head(model)
    assert name == "classifier.3"
    model.classifier[3] = nn.Linear(head.in_features, 2)
    return model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real (random-weight) MobileNetV3-small with a 2-class head, saved by save_classifier."""
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    model = _tiny_model()
    save_classifier(
        path,
        model,
        "mobilenet_v3_small",
        ["cat", "dog"],
        image_size=SIZE,
        mean=[0.5, 0.5, 0.5],
        std=[0.25, 0.25, 0.25],
        meta={"note": "test"},
    )
    return path, model


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(d / f"img{i}.png")
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(d / "grey.jpg")
    (d / "notes.txt").write_text("not an image, ignored")
    return d


def _expected(model, path):
    """The probabilities computed by hand, with the checkpoint's preprocessing."""
    img = Image.open(path).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    x = torch.as_tensor(np.array(img), dtype=torch.float32).permute(2, 0, 1) / 255
    x = (x - 0.5) / 0.25
    with torch.no_grad():
        return torch.softmax(model.eval()(x[None]), -1)[0]


def test_checkpoint_round_trip_needs_only_the_file(checkpoint):
    path, model = checkpoint
    clf = load_classifier(path, device="cpu")
    assert clf.arch == "mobilenet_v3_small" and clf.classes == ["cat", "dog"]
    assert (
        clf.image_size == (SIZE, SIZE)
        and clf.mean == [0.5, 0.5, 0.5]
        and clf.meta == {"note": "test"}
    )
    assert find_head(clf.model)[0] == "classifier.3" and not clf.model.training
    x = torch.randn(3, 3, SIZE, SIZE)
    with torch.no_grad():
        torch.testing.assert_close(clf.model(x), model.eval()(x))
    assert not list(path.parent.glob(".*part"))  # written atomically: no temporary file left


def test_save_checks_head_against_classes(tmp_path):
    model = _tiny_model()
    with pytest.raises(ValueError, match="2 outputs but 3 classes"):
        save_classifier(tmp_path / "m.pt", model, "mobilenet_v3_small", ["a", "b", "c"], 32)
    assert not (tmp_path / "m.pt").exists()


def test_classify_folder_labels_every_image(checkpoint, folder):
    path, model = checkpoint
    labels = classify_folder(folder, path, batch_size=4, progress=False, device="cpu")
    assert sorted(labels) == ["grey.jpg"] + [f"img{i}.png" for i in range(5)]
    for name, entry in labels.items():
        probs = _expected(model, folder / name)
        assert entry["label"] == ["cat", "dog"][int(probs.argmax())]
        assert entry["probability"] == pytest.approx(float(probs.max()), abs=1e-4)
        assert 0.5 <= entry["probability"] <= 1.0
    # batch size does not change the answer (eval mode: BatchNorm uses running statistics)
    assert classify_folder(folder, path, batch_size=1, progress=False, device="cpu") == labels


def test_classify_folder_unreadable_image(checkpoint, folder):
    path, _ = checkpoint
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF garbage")
    with pytest.raises(UnreadableImageError, match="corrupt.jpg"):
        classify_folder(folder, path, progress=False, device="cpu")
    labels = classify_folder(folder, path, skip_unreadable=True, progress=False, device="cpu")
    assert "corrupt.jpg" not in labels and "corrupt.jpg" in labels["errors"]
    assert len(labels) == 6 + 1


def test_load_classifier_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_classifier(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a classifier checkpoint"):
        load_classifier(tmp_path / "text.pt")
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a classifier checkpoint written by"):
        load_classifier(tmp_path / "other.pt")
    # another kind of course checkpoint: says which kind it is
    from course_utils import checkpoint as ckpt

    ckpt.save(tmp_path / "run.pt", "training run", step=3)
    with pytest.raises(CheckpointError, match="is a 'training run' checkpoint, expected"):
        load_classifier(tmp_path / "run.pt")


def test_classify_empty_or_missing_folder(checkpoint, tmp_path):
    path, _ = checkpoint
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoImagesError):
        classify_folder(tmp_path / "empty", path, progress=False)
    with pytest.raises(FileNotFoundError):
        classify_folder(tmp_path / "nope", path, progress=False)


# ------------------------------------------------------------------------ the command
def test_cli_writes_json(checkpoint, folder, tmp_path, capsys):
    path, _ = checkpoint
    out = tmp_path / "res" / "labels.json"
    assert (
        cli.main(
            [
                "classify",
                str(folder),
                "--model",
                str(path),
                "--out",
                str(out),
                "--batch-size",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    labels = json.loads(out.read_text())
    assert labels == classify_folder(folder, path, progress=False)
    assert "labelled 6 image(s)" in capsys.readouterr().out


def test_cli_default_output_is_cwd(checkpoint, folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["classify", str(folder), "--model", str(checkpoint[0]), "--quiet"]) == 0
    assert len(json.loads((tmp_path / "labels.json").read_text())) == 6


@pytest.mark.parametrize(
    "case",
    ["missing_checkpoint", "not_a_checkpoint", "empty_folder", "missing_folder", "corrupt_image"],
)
def test_cli_errors_exit_2_with_a_message(case, checkpoint, folder, tmp_path, capsys):
    model = str(checkpoint[0])
    target = str(folder)
    if case == "missing_checkpoint":
        model = str(tmp_path / "nope.pt")
    elif case == "not_a_checkpoint":
        model = str(folder / "img0.png")
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        target = str(tmp_path / "empty")
    elif case == "missing_folder":
        target = str(tmp_path / "nowhere")
    else:
        (folder / "corrupt.jpg").write_bytes(b"not a jpeg at all")
    out = tmp_path / "labels.json"
    code = cli.main(["classify", target, "--model", model, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    expected = {
        "missing_checkpoint": "no checkpoint at .*nope.pt",
        "not_a_checkpoint": "img0.png is not a classifier checkpoint",
        "empty_folder": "no image files",
        "missing_folder": "image folder not found",
        "corrupt_image": "cannot read image .*corrupt.jpg(.|\n)*--skip-unreadable",
    }[case]
    assert err.startswith("error: ")
    import re

    assert re.search(expected, err), err


def test_cli_skip_unreadable_records_errors(checkpoint, folder, tmp_path):
    (folder / "corrupt.jpg").write_bytes(b"not a jpeg at all")
    out = tmp_path / "labels.json"
    assert (
        cli.main(
            [
                "classify",
                str(folder),
                "--model",
                str(checkpoint[0]),
                "--out",
                str(out),
                "--skip-unreadable",
                "--quiet",
            ]
        )
        == 0
    )
    labels = json.loads(out.read_text())
    assert list(labels["errors"]) == ["corrupt.jpg"] and len(labels) == 7


def test_console_script_end_to_end(checkpoint, folder, tmp_path):
    """The installed `course` entry point, in a fresh process, with its progress bar."""
    out = tmp_path / "labels.json"
    exe = [sys.executable, "-m", "course_utils.tools.cli"]
    done = subprocess.run(
        exe + ["classify", str(folder), "--model", str(checkpoint[0]), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "classifying" in done.stderr and len(json.loads(out.read_text())) == 6
    bad = subprocess.run(
        exe + ["classify", str(folder), "--model", str(tmp_path / "x.pt")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "no checkpoint at" in bad.stderr
    helptext = subprocess.run(
        exe + ["classify", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "labels.json in the current directory" in " ".join(helptext.stdout.split())
