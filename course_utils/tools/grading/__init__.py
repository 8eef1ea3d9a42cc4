"""Homework grading: release student notebooks, grade submissions in a sandbox,
let students check their work. See ``homeworks/README.md`` for the threat model."""

from course_utils.tools.grading.grade import Result, check, grade
from course_utils.tools.grading.notebook_format import FormatError
from course_utils.tools.grading.release import release, student_notebook
from course_utils.tools.grading.sandbox import Limits, probe

__all__ = [
    "FormatError",
    "Limits",
    "Result",
    "check",
    "grade",
    "probe",
    "release",
    "student_notebook",
]
