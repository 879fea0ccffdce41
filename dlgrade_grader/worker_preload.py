"""What the process that forks the grading workers imports once (multiprocessing's forkserver).

Every worker, and every replacement of one that died, is forked from that
process, so they share one import of nbgrader, nbconvert, the verifier and
torch (about 3 CPU-seconds a worker when each imported them itself).
"""
import nbconvert.exporters  # noqa: F401
import nbgrader.converters  # noqa: F401

from dlgrade_grader import inprocess, preprocessors, worker  # noqa: F401

try:  # the references of the autodiff assignments
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - the grader's requirements pin it
    pass
