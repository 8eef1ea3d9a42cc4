"""nbval executes the instructor sources only: student notebooks stop at their stubs
(`raise NotImplementedError()`) by design; tests/test_homeworks.py grades them."""


def pytest_ignore_collect(collection_path, config):
    name = collection_path.name
    if name.endswith(".ipynb") and not name.endswith(".source.ipynb"):
        return True
    return None
