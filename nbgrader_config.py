"""nbgrader configuration for the course (read by every nbgrader command run here)."""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearMarkScheme, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from dlgrade_grader.execute import GraderExecute
from dlgrade_grader.preprocessors import HideHiddenTests, VerifyChecks
from dlgrade_grader.sanitize import DropUnknownGradeIds, RefuseLinks

c = get_config()  # noqa: F821 (injected by traitlets)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "dlmath"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.dlgrade.json"]

# Hidden and graded cases are drawn from the instructor's key, which never enters the repository:
# $DLGRADE_COURSE_KEY, $DLGRADE_KEY_FILE, this path, or ~/.config/dlgrade/<course_id>.key
# (`dlgrade keygen` makes one). Grading without a key refuses.
c.CourseKey.path = os.environ.get("DLGRADE_KEY_FILE", "")

# A submission is the student's own regular files: links are refused before anything reads them,
# and cells claiming unknown or repeated grade ids become plain cells instead of failing the notebook.
c.Autograde.sanitize_preprocessors = [
    RefuseLinks,
    ClearOutput,
    DropUnknownGradeIds,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

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
c.Execute.timeout = 60
c.Execute.startup_timeout = 120
# Deleted cells are put back by dlgrade's intake before nbgrader reads the notebook (locked cells
# as they were, answer cells empty, with a note); OverwriteCells.add_missing_cells stays off.
# Student kernels run under bubblewrap (GraderExecute's kernel manager, dlgrade_grader/sandbox.py),
# with the student environment .venv-kernel (numpy, matplotlib, ipykernel, the student package;
# no torch, autograd or grader) built by scripts/setup.sh;
# without it grading refuses unless DLGRADE_UNSAFE_NO_SANDBOX=1 (--unsafe-no-sandbox).
c.GraderExecute.notebook_timeout = 600
# Kernel environments declared per assignment. torch_autograd's students drive torch's autograd, so its
# kernel is .venv-kernel-torch (scripts/setup.sh): torch layered on .venv-kernel by a .pth file, whose
# folders the sandbox binds read-only too. Its references stay in the grader like every other's.
from dlgrade_grader.hw import torch_autograd as _torch_hw  # noqa: E402

c.GraderExecute.kernel_pythons = {"torch_autograd": _torch_hw.kernel_python()}
c.SandboxedKernelManager.extra_ro_paths = _torch_hw.kernel_libraries()
c.SandboxedKernelManager.address_space_limit = 4 * 2**30
c.SandboxedKernelManager.file_size_limit = 256 * 2**20

# Feedback shows verdicts, never hidden test text or a mark scheme.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, ClearMarkScheme, CSSHTMLHeaderPreprocessor]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# `nbgrader autograde` (or generate_feedback) and `dlgrade grade` never write this course at once:
# either holds .dlgrade/lock while it runs, and the other is refused with the holder's name.
from dlgrade_grader.course_lock import hold_for_nbgrader  # noqa: E402

hold_for_nbgrader(c.CourseDirectory.root)
