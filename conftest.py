"""Repository-wide pytest hooks (a conftest.py under tests/ would not see notebooks/)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import OFFLINE_PASS

# In the offline pass, notebooks that reach no data (nbtools.reads_mirror: no
# course_utils.data, no pretrained weights, no NLTK...) ran in `make test` already and
# would run the same code on the same inputs: they are not collected.


# A lesson's student seminar is generated from its source (`course release`): its
# exercises are stubs that raise, so nbval runs the solved source instead; the seminar
# is checked by tests/test_seminars.py (current, and every exercise check fails).


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix != ".ipynb":
        return None
    from course_utils.tools.notebooks import is_generated

    if is_generated(Path(collection_path)):
        return True
    if OFFLINE_PASS:
        from course_utils.tools.notebooks import reads_mirror

        return reads_mirror(Path(collection_path)) is None
    return None
