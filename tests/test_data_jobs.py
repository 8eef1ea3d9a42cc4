"""Registry entries job_salaries (with its generated stand-in) and fasttext_uk/ru."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import data
from course_utils.data import DataError, StandInWarning
from course_utils.data.datasets.job_salaries import (
    CATEGORICAL_COLUMNS,
    JOB_COLUMNS,
    SALARY_EFFECTS,
    job_ads_like,
    read_job_salaries,
)


@pytest.fixture
def offline(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return isolated_cache


def test_entries_are_listed_without_checksums():
    entry = data.get_entry("job_salaries")
    assert entry.files["train"].urls[0] == (
        "https://ysda-seminars.s3.eu-central-1.amazonaws.com/Train_rescaled.csv"
    )
    assert entry.trust_on_first_use == ["train"] and entry.files["train"].mirror_path is None
    assert entry.standin is not None and entry.license and entry.homepage.startswith("https://")
    for lang in ("uk", "ru"):
        ft = data.get_entry(f"fasttext_{lang}")
        assert ft.trust_on_first_use == ["vectors"]
        assert ft.files["vectors"].urls[0].endswith(f"cc.{lang}.300.vec.gz")
    assert "job_salaries" in data.REGISTRY and "fasttext_uk" in data.REGISTRY


def test_standin_in_small_mode_is_announced(offline, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_SMALL", "1")
    with pytest.warns(StandInWarning, match="GENERATED job ads"):
        df = data.load("job_salaries")
    assert "STAND-IN DATA for 'job_salaries'" in capsys.readouterr().err
    assert df.shape == (5000, 12)
    assert set(JOB_COLUMNS) <= set(df.columns)
    assert (df["SalaryNormalized"] > 0).all() and df["Title"].str.len().min() > 0
    assert df["FullDescription"].str.split().str.len().min() >= 20
    for col in CATEGORICAL_COLUMNS:
        assert df[col].dropna().nunique() >= 2, col
    assert df["ContractType"].isna().mean() == pytest.approx(0.3, abs=0.05)


def test_full_mode_without_the_file_is_a_clear_error(offline, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "0")
    with pytest.raises(DataError, match=r"Train_rescaled\.csv.*not found.*stand-in instead") as err:
        data.load("job_salaries")
    assert "ysda-seminars.s3" in str(err.value) and "course data fetch job_salaries" in str(
        err.value
    )
    with pytest.raises(DataError, match=r"cc\.uk\.300\.vec\.gz"):
        data.load("fasttext_uk", limit=10)


def test_fasttext_has_no_standin(offline, monkeypatch):
    monkeypatch.setenv("COURSE_SMALL", "1")
    with pytest.raises(DataError, match="not found"):
        data.load("fasttext_ru", limit=10)


def test_standin_follows_its_salary_rule():
    df = job_ads_like(3000, seed=1)
    log_salary = np.log(df["SalaryNormalized"])
    senior = df["Title"].str.startswith("Senior ")
    junior = df["Title"].str.startswith("Junior ")
    # same categories on both sides on average: the gap is the two effects, up to noise
    gap = log_salary[senior].mean() - log_salary[junior].mean()
    assert gap == pytest.approx(
        SALARY_EFFECTS["title"]["senior"] - SALARY_EFFECTS["title"]["junior"], abs=0.12
    )
    part = df["ContractTime"] == "part_time"
    assert log_salary[part].mean() < log_salary[df["ContractTime"] == "full_time"].mean() - 0.25
    # reproducible and seed-dependent
    pd.testing.assert_frame_equal(job_ads_like(50, seed=3), job_ads_like(50, seed=3))
    assert not job_ads_like(50, seed=3).equals(job_ads_like(50, seed=4))
    with pytest.raises(ValueError):
        job_ads_like(0)


def test_reader_checks_columns(tmp_path):
    good = tmp_path / "good.csv"
    job_ads_like(20).to_csv(good, index=False)
    assert len(read_job_salaries(good)) == 20
    bad = tmp_path / "bad.csv"
    job_ads_like(20).drop(columns=["Category"]).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="missing \\['Category'\\]"):
        read_job_salaries(bad)
    neg = tmp_path / "neg.csv"
    job_ads_like(20).assign(SalaryNormalized=-1).to_csv(neg, index=False)
    with pytest.raises(ValueError, match="positive"):
        read_job_salaries(neg)


def test_file_in_cache_is_read(isolated_cache, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_SMALL", "0")
    target = isolated_cache / "job_salaries" / "Train_rescaled.csv"
    target.parent.mkdir(parents=True)
    job_ads_like(30, seed=5).to_csv(target, index=False)
    df = data.load("job_salaries")
    assert len(df) == 30 and list(df["Title"]) == list(job_ads_like(30, seed=5)["Title"])
