"""Helpers shared by every notebook of the course.

The package is split into small modules, one concern each:

- :mod:`course_utils.config`   - small/full mode, seeding, device, paths
- :mod:`course_utils.data`     - dataset registry, mirror/cache/download, loaders
- :mod:`course_utils.corpora`  - CoNLL-U, Brown and analogy-set readers
- :mod:`course_utils.text`     - tokenizer, vocabulary, padding collate, BLEU, edit distance
- :mod:`course_utils.seq2seq`  - greedy decoding and beam search over a step function
- :mod:`course_utils.pretrained` - transformer encoders and torchvision ImageNet models
  from the mirror, cache or network
- :mod:`course_utils.images`   - image folders, CSV splits and a CSV image dataset
- :mod:`course_utils.classify` - classifier checkpoints and ``course classify``
- :mod:`course_utils.vision_features` - frozen CNN feature maps (style transfer)
- :mod:`course_utils.segmentation` - IoU, Dice, soft Dice loss, tiled prediction
- :mod:`course_utils.feature_store` - CNN features on disk, read lazily
- :mod:`course_utils.shapes`   - generated shapes-and-captions images
- :mod:`course_utils.train`    - training loop, evaluation, experiment grids
- :mod:`course_utils.plots`    - learning curves and other figures
- :mod:`course_utils.rl`       - environments, policy evaluation, videos, replay
  buffer, schedules, checkpoints
- :mod:`course_utils.dqn_checks` - public checks of a student's DQN TD loss
- :mod:`course_utils.notebook` - the notebook setup cell and conventions
- :mod:`course_utils.cli`      - the ``course`` command
"""

__version__ = "0.1.0"

from course_utils.config import (  # noqa: E402
    SMALL,
    device,
    is_small,
    seed_everything,
)
from course_utils.notebook import headline, setup_notebook  # noqa: E402

__all__ = [
    "SMALL",
    "__version__",
    "device",
    "headline",
    "is_small",
    "seed_everything",
    "setup_notebook",
]
