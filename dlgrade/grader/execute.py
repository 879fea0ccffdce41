"""The Execute step, told which student it runs for.

Hidden cases are seeded per student, so the kernel needs the student id.
It travels as an environment variable of the kernel process; nothing else
of the grader's environment is added.
"""
from __future__ import annotations

import os

from jupyter_core.utils import run_sync
from nbgrader.preprocessors import Execute

from ..checks import STUDENT_ENV


class GraderExecute(Execute):
    async def async_start_new_kernel(self, **kwargs):
        env = dict(kwargs.pop("env", None) or os.environ)
        student = (self.resources or {}).get("nbgrader", {}).get("student")
        if student:
            env[STUDENT_ENV] = student
        env.pop("NBGRADER_EXECUTION", None)
        kwargs["env"] = env
        return await super().async_start_new_kernel(**kwargs)

    # nbclient binds the sync wrapper to the base coroutine; rebind it to ours
    start_new_kernel = run_sync(async_start_new_kernel)
