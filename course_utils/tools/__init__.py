"""What maintainers and instructors run, kept apart from what lessons import: the
``course`` command (``cli``), notebook maintenance (``notebooks``: sync, strip, check,
run), the generated setup cell and badges (``templates``), scaffolds (``scaffold``)
and grading (``grading``)."""
