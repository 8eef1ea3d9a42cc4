"""Helpers shared by every notebook of the course, by domain, with the tooling apart.

What lessons import:

- :mod:`course_utils.config`     - small/full mode, step cap, seeding, device, paths
- :mod:`course_utils.session`    - ``setup_notebook`` (the setup cell) and ``headline``
- :mod:`course_utils.io`         - atomic file writes
- :mod:`course_utils.train`      - ``fit`` with callbacks, evaluation, experiment grids
- :mod:`course_utils.plots`      - learning curves and other figures
- :mod:`course_utils.pretrained` - transformer encoders and torchvision ImageNet models
  from the mirror, cache or network
- :mod:`course_utils.data`       - dataset registry, mirror/cache/download, loaders
- :mod:`course_utils.text`       - tokenizer and vocabulary, padding and the sequence
  loss, greedy and beam decoding, BLEU and edit distance, corpus readers
- :mod:`course_utils.vision`     - image datasets, classifier checkpoints, CNN features
  (extraction and disk store), segmentation metrics, generated shapes-and-captions data
- :mod:`course_utils.rl`         - environments, evaluation and videos, replay buffer,
  schedules, checkpoints, public DQN checks

What maintainers and instructors run: :mod:`course_utils.tools` (the ``course``
command, notebook maintenance, scaffolds, grading).
"""

__version__ = "0.1.0"

from course_utils.config import (  # noqa: E402
    SMALL,
    device,
    is_small,
    seed_everything,
    step_cap,
    trained_fully,
)
from course_utils.session import headline, setup_notebook  # noqa: E402

__all__ = [
    "SMALL",
    "__version__",
    "device",
    "headline",
    "is_small",
    "seed_everything",
    "setup_notebook",
    "step_cap",
    "trained_fully",
]
