"""pyproject.toml and environment.yml describe the same environment."""

from __future__ import annotations

import re

import tomllib
import yaml

from tests.conftest import ROOT


def _norm(req: str) -> str:
    name, rest = re.match(r"^([A-Za-z0-9_.\-]+)(.*)$", req.strip()).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + rest.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [_norm(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = [_norm(r) for r in pip_section if not r.startswith("-e")]
    assert listed == wanted, (
        "environment.yml's pip list differs from pyproject.toml:\n"
        f"only in pyproject: {sorted(set(wanted) - set(listed))}\n"
        f"only in environment.yml: {sorted(set(listed) - set(wanted))}"
    )
    assert "-e ." in pip_section


def test_dependencies_have_lower_bounds_not_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"]:
        assert ">=" in req and "==" not in req, f"{req}: use a lower bound, not a pin"


def test_version_is_single_sourced():
    import course_utils

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", course_utils.__version__)
