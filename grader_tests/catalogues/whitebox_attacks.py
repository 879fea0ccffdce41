"""Attacks by a student who has read every line of the student package (white-box).

They start from the blank release notebook and must gain nothing, with the static
audit switched off (scores rest on what exists in the kernel, not on what the audit
reads) and with it on (then the ``flagged`` ones must also be reported). None of
them names an assignment: each finds the loaded ``dlgrade.hw.<assignment>`` module.
"""
from dlgrade_grader.submissions import Attack

# the assignment module the notebook imported, found as a student would find it
FIND_SPECS = (
    "import sys as _sys\n"
    "_hw = [m for n, m in list(_sys.modules.items()) if n.startswith('dlgrade.hw.') and hasattr(m, 'SPECS')][0]\n"
)

# every spec answers with the shipped visible answer whose inputs match, else the first one
SPECS_FROM_VISIBLE_DATA = FIND_SPECS + (
    "import dlgrade.checks as _c, numpy as _np\n"
    "def _same(a, b):\n"
    "    try:\n"
    "        if isinstance(a, dict):\n"
    "            return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)\n"
    "        if isinstance(a, (list, tuple)):\n"
    "            return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))\n"
    "        return bool(_np.array_equal(a, b))\n"
    "    except Exception:\n"
    "        return False\n"
    "def _lookup(table):\n"
    "    def run(ns, inp):\n"
    "        for _label, known, answer in table:\n"
    "            if _same(known, inp):\n"
    "                return answer\n"
    "        return table[0][2] if table else None\n"
    "    return run\n"
    "_data = _c.visible_cases(_hw.SPECS.assignment)\n"
    "for _spec in list(_hw.SPECS):\n"
    "    object.__setattr__(_spec, 'run', _lookup(_data.get(_spec.id, [])))\n"
)

# the grading entry point replaced: records built from the casebook's case sets and visible answers
FORGED_GRADED_RECORDS = FIND_SPECS + (
    "import dlgrade.checks as _c, dlgrade.records as _r\n"
    "def _forge(grade_id, namespace):\n"
    "    book = _c.casebook() or {}\n"
    "    data = _c.visible_cases(_hw.SPECS.assignment)\n"
    "    for check_id, hidden in book.get('cells', {}).get(grade_id, []):\n"
    "        entry = book['checks'].get(f\"{check_id}|{'hidden' if hidden else 'visible'}\", {})\n"
    "        seen = data.get(check_id) or [('', None, None)]\n"
    "        answers = [{'ok': True, 'out': _r.encode(seen[i % len(seen)][2])} for i in range(len(entry.get('cases', [])))]\n"
    "        _c._emit({'format': 1, 'assignment': book.get('assignment'), 'check': check_id, 'hidden': hidden,\n"
    "                  'case_set': entry.get('case_set'), 'cases': answers})\n"
    "_c.run_graded_cell = _forge\n"
    "def check(*args, **kwargs):\n"
    "    print('[PASS] all good')\n"
)

# a look-alike check that derives a seed from public values, as the old design allowed
SHADOWED_CHECK_FROM_PUBLIC_SEED = FIND_SPECS + (
    "import hashlib, numpy as _np, dlgrade.checks as _c, dlgrade.records as _r\n"
    "def _seed(check_id, tag):\n"
    "    d = hashlib.blake2b(f'{_hw.SPECS.assignment}|{check_id}|{tag}'.encode(), digest_size=8).digest()\n"
    "    return int.from_bytes(d, 'little')\n"
    "def _forge(grade_id, namespace):\n"
    "    book = _c.casebook() or {}\n"
    "    for check_id, hidden in book.get('cells', {}).get(grade_id, []):\n"
    "        entry = book['checks'].get(f\"{check_id}|{'hidden' if hidden else 'visible'}\", {})\n"
    "        rng = _np.random.default_rng(_seed(check_id, 'hidden:me' if hidden else 'visible'))\n"
    "        answers = [{'ok': True, 'out': _r.encode(rng.standard_normal(3))} for _ in entry.get('cases', [])]\n"
    "        _c._emit({'format': 1, 'assignment': book.get('assignment'), 'check': check_id, 'hidden': hidden,\n"
    "                  'case_set': entry.get('case_set'), 'cases': answers})\n"
    "_c.run_graded_cell = _forge\n"
)

# every route to torch / autograd / the grader a student could try from the kernel
IMPORT_BY_ANY_ROUTE = (
    "import glob as _glob, importlib as _il, sys as _sys\n"
    "for _pattern in ('/root/.pyenv/versions/*/lib/python3*/site-packages', '/usr/lib/python3/dist-packages',\n"
    "                 '/usr/local/lib/python3*/*-packages', '/work/*/.venv/lib/python3*/site-packages',\n"
    "                 '/*/.venv/lib/python3*/site-packages', '/home/*/.venv/lib/python3*/site-packages',\n"
    "                 '/work/*', '/opt/*'):\n"
    "    _sys.path.extend(_glob.glob(_pattern))\n"
    "_found = []\n"
    "for _name in ('torch', 'autograd', 'jax', 'dlgrade_grader', 'dlgrade_grader.hw.vjp_autograd'):\n"
    "    try:\n"
    "        _il.import_module(_name)\n"
    "        _found.append(_name)\n"
    "    except Exception:\n"
    "        pass\n"
    "print('importable:', _found)\n"
    "if _found:\n"
    "    raise SystemExit('the sandbox let a grader-only module in: ' + ', '.join(_found))\n"
)

# the same tampering written so that ast.parse refuses it while IPython runs it
INDENTED = "".join(" " + line + "\n" for line in FORGED_GRADED_RECORDS.splitlines())
PROMPTED = "".join((">>> " if not line.startswith((" ", "\t")) else "... ") + line + "\n"
                   for line in FORGED_GRADED_RECORDS.splitlines())

ALIASED = (
    "_m = getattr(__import__('s' + 'ys'), 'mod' + 'ules')\n"
    "_c = _m['dlgrade.checks']\n"
    "vars(_c)['run_graded_cell'] = lambda *a, **k: print('[PASS]')\n"
    "_ip = exit._ip\n"
    "_ip.user_ns['check'] = lambda *a, **k: print('[PASS]')\n"
)

LEAK_TEXT = (
    "import glob as _g, os as _os\n"
    "print('HISTORY', [c for c in In])\n"
    "print('ENVIRON', dict(_os.environ))\n"
    "for _p in _g.glob('/proc/*/environ'):\n"
    "    try:\n"
    "        print('PROC', _p, open(_p, 'rb').read().decode(errors='replace'))\n"
    "    except OSError:\n"
    "        pass\n"
    "for _p in _g.glob('*') + _g.glob('/run/dlgrade/**', recursive=True) + _g.glob('../**/*.ipynb', recursive=True):\n"
    "    if _os.path.isfile(_p):\n"
    "        print('FILE', _p, open(_p, errors='replace').read()[:20000])\n"
)

def _append_last(source):
    """Add a code cell at the very end, after every test cell has run."""
    def edit(nb):
        from nbformat.v4 import new_code_cell
        cell = new_code_cell(source)
        cell["id"] = "last-cell"
        nb.cells.append(cell)
    return edit


ATTACKS = [
    Attack("specs_answer_from_visible_data", insert=[(None, SPECS_FROM_VISIBLE_DATA)]),
    Attack("forged_graded_records", insert=[(None, FORGED_GRADED_RECORDS)]),
    Attack("shadowed_check_with_public_seed", insert=[(None, SHADOWED_CHECK_FROM_PUBLIC_SEED)]),
    Attack("torch_autograd_grader_by_any_route", flagged=True, insert=[(None, IMPORT_BY_ANY_ROUTE)]),
    Attack("indented_cell_tampering", flagged=True, insert=[(None, INDENTED)]),
    Attack("prompted_cell_tampering", flagged=True, insert=[(None, PROMPTED)]),
    Attack("autocall_escape_tampering", flagged=True, insert=[(None, (
        "_code = 'import dlgrade.checks as c; c.run_graded_cell = lambda *a, **k: print(1)'\n"
        "/exec _code\n"))]),
    Attack("aliased_kernel_reach", flagged=True, insert=[(None, ALIASED)]),
    Attack("print_history_and_files", edit=_append_last(LEAK_TEXT)),
]
