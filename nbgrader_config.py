"""nbgrader configuration for the course (read by every nbgrader command run here)."""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, GetGrades, IgnorePattern,
                                    LimitOutput, SaveAutoGrades)

from dlgrade.grader.execute import GraderExecute
from dlgrade.grader.preprocessors import HideHiddenTests, VerifyChecks

c = get_config()  # noqa: F821 (injected by traitlets)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "dlmath"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.dlgrade.json"]

# Verdicts are computed outside the kernel: VerifyChecks rewrites every test
# cell's outputs before SaveAutoGrades reads them.
c.Autograde.autograde_preprocessors = [
    GraderExecute,
    VerifyChecks,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = 60
c.Execute.startup_timeout = 120
# Student kernels run under bubblewrap (GraderExecute's kernel manager, dlgrade/grader/sandbox.py);
# without it grading refuses unless DLGRADE_UNSAFE_NO_SANDBOX=1 (--unsafe-no-sandbox).
c.GraderExecute.notebook_timeout = 600
c.SandboxedKernelManager.address_space_limit = 4 * 2**30
c.SandboxedKernelManager.file_size_limit = 256 * 2**20

# Feedback shows verdicts, never hidden test text.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
