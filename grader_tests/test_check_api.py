"""Unit tests of the check API, records, comparison, verifier and audit (no kernels)."""
import json

import numpy as np
import pytest
from nbformat.v4 import new_output

from dlgrade import records
from dlgrade.checks import Check, Mistake, Registry, make_cases, seed_tag
from dlgrade.compare import compare
from dlgrade.grader.audit import audit_cells
from dlgrade.grader.verify import SourceError, parse_check_calls, verify_cell

REG = Registry("unit")
REG.add(Check(id="double", title="doubles its input",
              cases=lambda rng: [("vector", {"x": rng.standard_normal(4)}),
                                 ("matrix", {"x": rng.standard_normal((2, 3))})],
              run=lambda ns, inp: ns.double(inp["x"]), reference=lambda inp: 2 * inp["x"],
              functions=("double",),
              mistakes=(Mistake(lambda inp: inp["x"], "forgot the factor 2"),)))


def record_for(answer, hidden=False, student="s1", **overrides):
    tag = seed_tag(hidden, student)
    cases = make_cases(REG, REG["double"], tag)
    entries = [{"ok": True, "out": records.encode(answer(inp["x"]))} for _, inp in cases]
    rec = {"format": 1, "assignment": "unit", "check": "double", "hidden": hidden, "seed_tag": tag,
           "cases": entries, "kernel_verdict": "pass"}
    rec.update(overrides)
    return new_output("display_data", data={records.MIME: json.dumps(rec), "text/plain": ""})


def score(outputs, source='check("double", points=2)\ncheck("double", points=3, hidden=True)', blocked=None):
    return verify_cell("t", source, 5, outputs, REG, "s1", blocked or {})


def test_correct_records_score_full():
    r = score([record_for(lambda x: 2 * x), record_for(lambda x: 2 * x, hidden=True)])
    assert r.awarded == 5 and not r.problems


def test_wrong_answer_is_named_with_its_mistake():
    r = score([record_for(lambda x: x), record_for(lambda x: 2 * x, hidden=True)])
    assert r.awarded == 3
    assert "forgot the factor 2" in r.text() and "first wrong index" in r.text()
    assert "tampering" in r.text()  # the record claimed a pass the grader could not reproduce


@pytest.mark.parametrize("bad", [
    lambda: [],                                                               # no record
    lambda: [new_output("display_data", data={records.MIME: "{not json"})],  # malformed
    lambda: [new_output("display_data", data={records.MIME: "x" * (records.MAX_RECORD_BYTES + 10)})],
    lambda: [record_for(lambda x: 2 * x, hidden=True, seed_tag="visible")],  # someone else's cases
    lambda: [record_for(lambda x: 2 * x, hidden=True, cases=[])],              # truncated
    lambda: [record_for(lambda x: 2 * x, hidden=True)] * 2,                    # duplicated
    lambda: [record_for(lambda x: 2 * x, hidden=True, format=2)],
    lambda: [record_for(lambda x: 2 * x, hidden=True,
                        cases=[{"ok": True, "out": {"__kind__": "pickle", "data": "gASVAAAA"}}] * 2)],
])
def test_bad_records_fail_closed(bad):
    r = score(bad(), source='check("double", points=3, hidden=True)')
    assert r.max_points == 5 and r.awarded == 0


def test_values_are_not_revealed_for_hidden_cases():
    r = score([record_for(lambda x: 2 * x + 1, hidden=True)], source='check("double", points=5, hidden=True)')
    assert "first wrong index" in r.text() and "expected " not in r.text().split("index")[1][:40]


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
    r = verify_cell("t", "check('double', points=2)", 5, [record_for(lambda x: 2 * x)], REG, "s1", {})
    assert r.awarded == 0 and any("configuration" in p for p in r.problems)


def test_hidden_cases_differ_per_student():
    a = make_cases(REG, REG["double"], seed_tag(True, "alice"))[0][1]["x"]
    b = make_cases(REG, REG["double"], seed_tag(True, "bob"))[0][1]["x"]
    v = make_cases(REG, REG["double"], seed_tag(False, "alice"))[0][1]["x"]
    assert not np.allclose(a, b) and not np.allclose(a, v)


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
])
def test_audit(source, is_solution, blocked, tamper):
    res = audit_cells([("cell", source, is_solution)], {"torch", "autograd", "jax"}, {"double"})
    assert ("double" in res.blocked) == blocked
    assert bool(res.tampering) == tamper
