"""Vision: image folders and CSV datasets (``images``), classifier checkpoints and
``course classify`` (``classify``), frozen CNN feature maps (``features``) and CNN
features on disk, read lazily (``feature_store``), segmentation metrics, soft Dice and
tiled prediction (``segmentation``), and generated shapes-and-captions images
(``shape_captions``).

Import the module you need (``from course_utils.vision.segmentation import dice_score``):
some of them load pretrained weights or datasets, which a lesson that does not need them
should not import.
"""
