"""nbgrader run inside this process: its config, its converters, its gradebook connections.

Workers grade hundreds of submissions each; starting ``nbgrader autograde`` per
student would pay nbgrader's imports, the config load and a database engine
every time. These helpers drive nbgrader's own converters in-process, with two
adjustments written as subclasses or patches of nbgrader's classes: a
converter keeps the exception that stopped a submission (nbgrader logs it and
raises a generic error), and the feedback converter keeps its HTML exporter.
"""
from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

from .plan import STATE_DIR


def venv_on_path() -> None:
    """nbgrader runs the alembic CLI (new gradebooks) and kernels from PATH: use this Python's."""
    bindir = os.path.dirname(sys.executable)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(config_dir: Path, root: Path, db_url: str | None):
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(config_dir)).load_config()
    cfg.CourseDirectory.root = str(root)
    if db_url:
        cfg.CourseDirectory.db_url = db_url
    return cfg


def coursedir(cfg, **traits):
    from nbgrader.coursedir import CourseDirectory

    cd = CourseDirectory(config=cfg)
    for key, value in traits.items():
        setattr(cd, key, value)
    return cd


def sync_assignments(course: Path, assignments: list, db_url: str, log: logging.Logger) -> None:
    """Put each assignment's notebooks and cells in the gradebook, as ``generate_assignment`` does.

    The release it writes goes to ``.dlgrade/release/`` (the intake's reference
    for cell ids), so the course's own ``release/`` is never touched.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.converters.base import NbGraderException

    venv_on_path()
    cache_metadata_schema()
    cfg = load_config(course, course, db_url)
    for hw in assignments:
        cd = coursedir(cfg, assignment_id=hw, release_directory=f"{STATE_DIR}/release")
        conv = GenerateAssignment(coursedir=cd, config=cfg, log=log)
        conv.force = True
        try:
            conv.start()
        except NbGraderException as exc:
            raise RuntimeError(f"nbgrader could not generate {hw} from source/{hw}: {exc}") from None


def reuse_gradebook_connections() -> bool:
    """Make every ``Gradebook(url)`` in this process share one engine per database.

    nbgrader opens the gradebook a dozen times per submission, and each open
    builds an engine, reflects the schema and checks the course row (about
    50 ms apiece on a busy machine). A worker grades hundreds of submissions
    against the same one or two databases, so it does that work once per
    database. Only for the nbgrader version this was written against.
    """
    import nbgrader
    import nbgrader.api as api
    from sqlalchemy.orm import scoped_session, sessionmaker

    if not nbgrader.__version__.startswith("0.9.") or getattr(api.Gradebook, "_dlgrade_shared", False):
        return False
    original_init, engines = api.Gradebook.__init__, {}

    def __init__(self, db_url, course_id="default_course", authenticator=None):  # noqa: N807
        key = (str(db_url), course_id)
        if key not in engines:
            original_init(self, db_url, course_id, authenticator)  # creates tables, checks the course
            engines[key] = self.engine
            return
        self.engine = engines[key]
        self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True))
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self):
        self.db.remove()  # the engine (and its pooled connection) stays for the next open

    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close
    api.Gradebook._dlgrade_shared = True
    api.Gradebook._dlgrade_engines = engines
    return True


def forget_gradebook_connections() -> None:
    """After the database server went away: drop the shared engines, so the next open connects anew."""
    import nbgrader.api as api

    engines = getattr(api.Gradebook, "_dlgrade_engines", {})
    for engine in engines.values():
        engine.dispose()
    engines.clear()


class CapturesFailure:
    """Keeps what stopped a submission in an nbgrader converter (nbgrader logs it and raises a
    generic error), so that a full disk or a lost database is told apart from the student's failure."""
    failure = None

    def init_assignment(self, *args, **kwargs):
        try:
            return super().init_assignment(*args, **kwargs)
        except Exception as exc:
            self.failure = exc
            raise

    def convert_single_notebook(self, *args, **kwargs):
        try:
            return super().convert_single_notebook(*args, **kwargs)
        except Exception as exc:
            self.failure = exc
            raise


@functools.lru_cache(maxsize=None)
def capturing_autograde():
    from nbgrader.converters import Autograde

    return type("CapturingAutograde", (CapturesFailure, Autograde), {})


@functools.lru_cache(maxsize=None)
def reusable_feedback_class():
    from nbgrader.converters import GenerateFeedback

    class ReusableFeedback(CapturesFailure, GenerateFeedback):
        """GenerateFeedback that keeps its HTML exporter (and compiled templates) between students."""

        def start(self):
            from nbconvert.writers import FilesWriter

            self.failure = None
            self.init_notebooks()
            if getattr(self, "_kept_exporter", None) is None:
                self.writer = FilesWriter(parent=self, config=self.config)
                self._kept_exporter = self.exporter_class(parent=self, config=self.config)
                for pp in self.preprocessors:
                    self._kept_exporter.register_preprocessor(pp)
            self.exporter = self._kept_exporter
            cwd = os.getcwd()
            os.chdir(self.coursedir.root)
            try:
                self.convert_notebooks()
            finally:
                os.chdir(cwd)

    return ReusableFeedback


def sqlite_snapshot(src: Path, dst: Path) -> None:
    """A consistent copy even while the main process writes to ``src``."""
    import sqlite3

    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def cache_metadata_schema() -> bool:
    """Validate nbgrader's cell metadata with one prepared validator instead of ``jsonschema.validate``.

    ``jsonschema.validate`` checks the schema itself against its meta-schema on
    every call; nbgrader calls it for every cell, twice per notebook
    (``CheckCellMetadata`` runs before and after the kernel), against one fixed
    schema. Same errors, raised the same way (``best_match``), without the meta-check.
    """
    import jsonschema
    import nbgrader.nbgraderformat.common as common

    if isinstance(common.jsonschema, _PreparedSchemas):
        return False
    common.jsonschema = _PreparedSchemas(jsonschema)
    return True


class _PreparedSchemas:
    def __init__(self, jsonschema):
        self._jsonschema, self._validators = jsonschema, {}

    def validate(self, instance, schema):
        validator = self._validators.get(id(schema))
        if validator is None or validator.schema is not schema:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[id(schema)] = cls(schema)
        error = self._jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):  # anything else nbgrader reads from the module
        return getattr(self._jsonschema, name)
