"""Repository-wide pytest hooks (a conftest.py under tests/ would not see notebooks/)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import OFFLINE_PASS

# In the offline pass, notebooks that reach no data (nbtools.reads_mirror: no
# course_utils.data, no pretrained weights, no NLTK...) ran in `make test` already and
# would run the same code on the same inputs: they are not collected.
#
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


# How pytest-xdist shares the work: the cells of a notebook run in one kernel, in order,
# and most test files share module-scoped fixtures (a graded batch, a built wheel), so
# each file goes to one worker as a whole (xdist's "loadfile"). The files below hold
# many slow, independent tests (a homework graded three times, a seminar run through
# `course check`): their tests are shared out one by one, so that no single worker runs
# them all in a row (as whole files they were a third of `make test` on 2 workers).
# tests/test_full_mode.py (`make test-full`) runs one lesson per test.
SPREAD = {"test_homeworks.py", "test_seminars.py", "test_full_mode.py"}


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class FileOrTestScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return nodeid if Path(path).name in SPREAD else path

    return FileOrTestScheduling(config, log)
