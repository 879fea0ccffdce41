"""Grader-side machinery. Never imported by a student's kernel."""
