"""Repository-wide pytest hooks (a conftest.py under tests/ would not see notebooks/)."""

from __future__ import annotations

import os
from pathlib import Path

# `make test-offline` sets COURSE_TEST_OFFLINE_PASS=1: it runs again, with no mirror and
# no network, only what can behave differently there. Notebooks that reach no data
# (nbtools.reads_mirror: no course_utils.data, no pretrained weights, no NLTK...) ran in
# `make test` already and would run the same code on the same inputs here.
OFFLINE_PASS = os.environ.get("COURSE_TEST_OFFLINE_PASS") == "1"


def pytest_ignore_collect(collection_path, config):
    if OFFLINE_PASS and collection_path.suffix == ".ipynb":
        from course_utils.nbtools import reads_mirror

        return reads_mirror(Path(collection_path)) is None
    return None
