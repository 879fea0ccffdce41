"""dlgrade: auto-graded homework for a deep-learning mathematics course.

Student-facing parts (the check API, case generators, references) live at
the top level and in ``dlgrade.hw``; the grader-only parts (verifier,
audit, sandbox, cohort grading) live in ``dlgrade.grader``.
"""
__version__ = "0.1.0"
