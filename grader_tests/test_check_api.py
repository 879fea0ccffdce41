"""Unit tests of the check API, records, comparison, verifier and audit (no kernels)."""
import json

import numpy as np
import pytest
from nbformat.v4 import new_output

from dlgrade import records
from dlgrade.checks import Spec, Specs, StudentNamespace, run_case
from dlgrade.compare import compare
from dlgrade_grader.audit import audit_cells
from dlgrade_grader.casebook import graded_cases
from dlgrade_grader.checks import Mistake, Registry
from dlgrade_grader.verify import GradingContext, SourceError, parse_check_calls, verify_cell

SPECS = Specs("unit")
SPECS.add(Spec(id="double", title="doubles its input", run=lambda ns, inp: ns.double(inp["x"]),
               functions=("double",)))
SPECS.add(Spec(id="count", title="counts entries", run=lambda ns, inp: ns.count(inp["x"])))
REG = Registry(SPECS)
REG.add("double", cases=lambda rng: [("vector", {"x": rng.standard_normal(4)}),
                                      ("matrix", {"x": rng.standard_normal((2, 3))})],
        reference=lambda inp: 2 * inp["x"], mistakes=(Mistake(lambda inp: inp["x"], "forgot the factor 2"),))
REG.add("count", cases=lambda rng: [("one", {"x": rng.standard_normal(int(rng.integers(2, 9)))})],
        reference=lambda inp: inp["x"].size)
REG.complete()
KEY = bytes(range(32))
ME = GradingContext(KEY, "s1", "digest-1")


def record_for(answer, hidden=False, graded=ME, check="double", **overrides):
    cases = graded_cases(REG, check, hidden, graded.key, graded.student, graded.digest)
    ns = StudentNamespace({check: answer})
    entries = [run_case(REG[check].spec, ns, inp) for inp in cases.inputs]
    rec = {"format": 1, "assignment": "unit", "check": check, "hidden": hidden, "case_set": cases.id,
           "cases": entries}
    rec.update(overrides)
    return new_output("display_data", data={records.MIME: json.dumps(rec), "text/plain": ""})


def score(outputs, source='check("double", points=2)\ncheck("double", points=3, hidden=True)', blocked=None,
          points=5):
    return verify_cell("t", source, points, outputs, REG, ME, blocked or {})


def test_correct_records_score_full():
    r = score([record_for(lambda x: 2 * x), record_for(lambda x: 2 * x, hidden=True)])
    assert r.awarded == 5 and not r.problems


def test_wrong_answer_is_named_with_its_mistake():
    r = score([record_for(lambda x: x), record_for(lambda x: 2 * x, hidden=True)])
    assert r.awarded == 3
    assert "forgot the factor 2" in r.text() and "first wrong at index" in r.text()


ELSEWHERE = [GradingContext(KEY, "s2", "digest-1"),        # a classmate's cases
             GradingContext(KEY, "s1", "digest-0"),        # my previous submission's cases
             GradingContext(bytes(32), "s1", "digest-1")]  # cases drawn without the course key


@pytest.mark.parametrize("bad", [
    lambda: [],                                                               # no record
    lambda: [new_output("display_data", data={records.MIME: "{not json"})],  # malformed
    lambda: [new_output("display_data", data={records.MIME: "x" * (records.MAX_RECORD_BYTES + 10)})],
    *[(lambda g=g: [record_for(lambda x: 2 * x, hidden=True, graded=g)]) for g in ELSEWHERE],
    lambda: [record_for(lambda x: 2 * x, hidden=True, cases=[])],              # truncated
    lambda: [record_for(lambda x: 2 * x, hidden=True)] * 2,                    # duplicated
    lambda: [record_for(lambda x: 2 * x, hidden=True, format=2)],
    lambda: [record_for(lambda x: 2 * x, hidden=True,
                        cases=[{"ok": True, "out": {"__kind__": "pickle", "data": "gASVAAAA"}}] * 2)],
])
def test_bad_records_fail_closed(bad):
    r = score(bad(), source='check("double", points=3, hidden=True)', points=3)
    assert r.max_points == 3 and r.awarded == 0


@pytest.mark.parametrize("answer", [
    {"__kind__": "int", "v": "9" * 5000},                   # int() refuses 5000 digits
    {"__kind__": "array", "shape": [1], "dtype": "int64", "data": ["9" * 30]},
    {"__kind__": "float"},
    {"__kind__": "dict", "pairs": [[{"__kind__": "list", "items": []}, 1]]},
])
def test_one_unreadable_answer_fails_its_check_only(answer):
    bad = record_for(lambda x: 2 * x, check="double")
    rec = json.loads(bad["data"][records.MIME])
    rec["cases"][0] = {"ok": True, "out": answer}
    bad["data"][records.MIME] = json.dumps(rec)
    good = record_for(lambda x: x.size, check="count")
    r = score([bad, good], source='check("double", points=2)\ncheck("count", points=3)')
    assert r.awarded == 3, r.text()
    assert "unreadable" in r.text() or "could not" in r.text()


def test_values_are_not_revealed_for_hidden_cases():
    r = score([record_for(lambda x: 2 * x + 1, hidden=True)], source='check("double", points=5, hidden=True)')
    assert "first wrong at index" in r.text() and "expected " not in r.text().split("index")[1][:40]


def test_audit_blocks_the_function_and_says_why():
    r = score([record_for(lambda x: 2 * x), record_for(lambda x: 2 * x, hidden=True)],
              blocked={"double": "uses torch"})
    assert r.awarded == 0 and "uses torch" in r.text()


@pytest.mark.parametrize("source", [
    "check('double', points=2)\nprint(1)",
    "check('double', points=2) if True else None",
    "check(name, points=2)",
    "check('double', points=-1)",
    "check('double', points=2)\ncheck('double', points=2)",
    "def check(): pass",
])
def test_test_cells_must_be_literal_check_calls(source):
    with pytest.raises(SourceError):
        parse_check_calls(source)


def test_points_mismatch_scores_zero():
    r = verify_cell("t", "check('double', points=2)", 5, [record_for(lambda x: 2 * x)], REG, ME, {})
    assert r.awarded == 0 and any("configuration" in p for p in r.problems)


def test_graded_cases_differ_per_student_submission_scope_and_key():
    def case_set(g, hidden=True):
        return graded_cases(REG, "double", hidden, g.key, g.student, g.digest).id
    mine = case_set(ME)
    assert mine != case_set(ME, hidden=False)
    for other in ELSEWHERE:
        assert mine != case_set(other)
    assert mine == case_set(ME)  # and the same submission always gets the same cases


@pytest.mark.parametrize("value", [
    np.arange(6.0).reshape(2, 3), np.float64(np.nan), (1, [2.5, {"k": np.eye(2)}]), frozenset({1, 2}),
    True, "text", None, np.array([np.inf, -np.inf]), np.int64(7),
])
def test_records_round_trip(value):
    back = records.decode(json.loads(json.dumps(records.encode(value))))
    assert compare(value, back) == [] if not isinstance(value, (str, type(None))) else back == value


def test_unknown_objects_are_opaque_not_trusted():
    class Liar:
        def __eq__(self, other):
            return True
    back = records.decode(records.encode(Liar()))
    assert compare(np.ones(2), back)


@pytest.mark.parametrize("expected,got,hint", [
    (np.ones((2, 3)), np.ones((3, 2)), "transposed"),
    (np.ones((3, 1)), np.ones((3, 4)), "unbroadcast"),
    (np.arange(1.0, 5.0), -np.arange(1.0, 5.0), "sign"),
    (np.arange(1.0, 5.0), np.arange(1.0, 5.0) / 4, "same factor"),
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 3.0], [2.0, 4.0]]), "transpose"),
    (np.linspace(1, 2, 7), np.linspace(1, 2, 7).astype(np.float32).astype(np.float64), "float32 arithmetic"),
])
def test_compare_names_classic_mistakes(expected, got, hint):
    msgs = " ".join(str(m) for m in compare(expected, got))
    assert hint in msgs


@pytest.mark.parametrize("source,is_solution,blocked,tamper", [
    ("import torch\ndef double(x):\n    return torch.tensor(x) * 2", True, True, False),
    ("from autograd import grad\ndef double(x): return 2 * x", True, True, False),
    ("def double(x):\n    return open('/etc/passwd').read()", True, True, False),
    ("import re\ndef double(x):\n    re.compile('a')\n    return 2 * x", True, False, False),
    ("get_ipython().input_transformers_post.append(f)", False, False, True),
    ("import sys\nsys.modules['numpy'].allclose = lambda *a: True", False, False, True),
    ("ip = x\ngetattr(ip, 'set_custom_exc')((Exception,), h)", False, False, True),
    ("import torch\nprint(torch.ones(2))", False, False, False),   # exploring with torch is fine
    ("import torch\ndef double(x):\n    return torch.ones(2)", False, True, False),  # renamed solution cell
    ("%matplotlib inline\nimport matplotlib.pyplot as plt", False, False, False),
    ("%load_ext something", False, False, True),
    # cells that ast.parse refuses but IPython runs: the audit reads what IPython runs
    (" import importlib\n importlib.import_module('dlgrade')", False, False, True),
    (">>> import sys\n>>> sys.modules['numpy']", False, False, True),
    ("/exec 'print(1)'", False, False, True),
    ("!cat /etc/passwd", False, False, True),
    (" import torch\n def double(x):\n     return torch.ones(2)", True, True, False),
])
def test_audit(source, is_solution, blocked, tamper):
    res = audit_cells([("cell", source, is_solution)], {"torch", "autograd", "jax"}, {"double"})
    assert ("double" in res.blocked) == blocked
    assert bool(res.tampering) == tamper
