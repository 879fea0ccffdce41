"""Static audit of the code a student wrote, run in the grader process.

Two questions are asked of every cell the student controls:
- does a solution cell reach for a forbidden shortcut (autodiff, file I/O)?
  Then the checks of the functions it defines score zero.
- does any cell reach for the machinery of the kernel itself (IPython hooks,
  ``sys.modules``, ``builtins``, ``ctypes``, subprocesses), or for files from a
  cell that is not a solution (the sandbox hides the course, and this catches
  the attempt even without it)? Then the whole
  notebook's autograded checks score zero, unless the policy says flag only.
The audit reads the code IPython runs (its input transformations applied); it never
runs it. It is a report for humans: scores are right with it switched off, because
the kernel holds nothing that a reach into it could turn into points.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from dlgrade.check_notebook import ALLOWED_MAGICS

TAMPER_NAMES = {
    "get_ipython", "__builtins__", "__import__", "builtins", "importlib", "ctypes", "subprocess",
    "sys.modules", "sys.settrace", "sys.setprofile", "sys._getframe", "sys.exit", "os._exit",
    "os.system", "os.popen", "os.fork", "os.kill", "os.execv", "os.execl", "os.spawnl",
    "multiprocessing", "gc.get_objects", "gc.get_referrers", "inspect.currentframe", "inspect.stack",
    "ipykernel", "dlgrade", "exec", "eval", "compile", "globals", "signal", "pickle", "__main__",
    "vars", "In", "Out", "_ih", "_oh",
}
# attribute names that are suspicious whatever object they hang off
TAMPER_ATTRS = {
    "set_custom_exc", "input_transformers_post", "input_transformers_cleanup", "showtraceback",
    "user_ns", "run_cell", "register_magic_function", "__globals__", "__subclasses__", "__code__",
    "__builtins__", "f_globals", "f_locals", "f_back", "_ip",
}
FILE_NAMES = {"open", "io.open", "os.open", "os.listdir", "os.scandir", "os.walk", "np.load", "np.fromfile",
              "numpy.load", "numpy.fromfile", "np.loadtxt", "numpy.loadtxt", "pathlib", "glob", "shutil",
              "os.path.exists", "os.chdir"}


@dataclass
class AuditResult:
    blocked: dict = field(default_factory=dict)   # function name -> reason
    tampering: list = field(default_factory=list)  # reasons that void the notebook
    notes: list = field(default_factory=list)      # flagged only

    @property
    def voids_notebook(self) -> bool:
        return bool(self.tampering)


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def used_names(tree: ast.AST) -> set[str]:
    """Every dotted name, imported module and string attribute a cell mentions."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node)
            if dotted:
                parts = dotted.split(".")
                names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            if isinstance(node, ast.Attribute) and node.attr in TAMPER_ATTRS:
                names.add(node.attr)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            names.update(f"{node.module}.{a.name}" for a in node.names)
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # getattr(x, "input_transformers_post") is the same reach as the attribute
            if node.value in TAMPER_NAMES or node.value in TAMPER_ATTRS:
                names.add(node.value)
    return names


def defined_names(tree: ast.AST) -> set[str]:
    out = set()
    for node in tree.body if isinstance(tree, ast.Module) else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                out.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
    return out


def ipython_source(source: str, allow_magics=frozenset()) -> str:
    """The Python that IPython actually runs for a cell: its input transformations applied.

    An indented cell, ``>>>`` prompts, ``/f x`` autocall and ``!cmd`` escapes all become
    plain Python here, so the audit reads what the kernel executes. Allowed magic lines
    are blanked first; any other magic or escape turns into a visible ``get_ipython()``.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    kept = "\n".join("" if line.strip() in allow_magics else line for line in source.splitlines())
    try:
        return TransformerManager().transform_cell(kept)
    except Exception:  # IPython could not transform it either: it cannot run as written
        return kept


def parse_cell(source: str, allow_magics=frozenset()) -> ast.AST | None:
    try:
        return ast.parse(ipython_source(source, allow_magics))
    except (SyntaxError, ValueError):
        return None


def audit_cells(student_cells: list, forbidden_in_solutions: set, all_functions: set,
                allow_magics: set = ALLOWED_MAGICS) -> AuditResult:
    """student_cells: (label, source, is_solution) for every cell the student controls."""
    result = AuditResult()
    for label, source, is_solution in student_cells:
        tree = parse_cell(source, allow_magics)
        if tree is None:
            result.notes.append(f"{label}: does not parse as Python even after IPython's input"
                                " transformations (it cannot have run)")
            continue
        names = used_names(tree)
        # a cell that defines graded functions is held to the solution rules,
        # whatever its metadata says (renaming a solution cell must not dodge them)
        is_solution = is_solution or bool(defined_names(tree) & all_functions)
        reach = sorted(n for n in names if n in TAMPER_NAMES or n in TAMPER_ATTRS
                       or (not is_solution and n in FILE_NAMES))
        if reach:
            what = ", ".join(reach)
            result.tampering.append(f"{label} uses {what}, which reaches into the kernel or the system")
        if is_solution:
            bad = sorted(n for n in names if n in forbidden_in_solutions or n in FILE_NAMES)
            if bad:
                reason = f"the solution in {label} uses {', '.join(bad)}, which this question forbids"
                owned = defined_names(tree) & all_functions
                for fn in owned or all_functions & names:
                    result.blocked[fn] = reason
                if not owned:
                    result.notes.append(reason)
    return result
