"""A throw-away seventh assignment (softplus) and the driver that grades it inside a copy of the
repository; see ``grader_tests/test_seventh_assignment.py``."""
