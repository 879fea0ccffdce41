"""dlgrade, student edition: the check API a homework notebook imports.

It runs the student's functions on cases and shows or records what they return.
It holds no reference answers and no case generators; grading happens in a
separate grader package that never enters the student's kernel.
"""
__version__ = "0.2.0"
