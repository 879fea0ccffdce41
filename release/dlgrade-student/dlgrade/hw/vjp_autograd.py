"""Checks for the vjp_autograd assignment, student side: how each check calls your code.

The assignment: unbroadcast, per-op VJPs, a reverse-mode Tensor. This half is what
runs in the kernel: one :class:`~dlgrade.checks.Spec` per check (which functions it
calls, how, and with what tolerance) and the test harness the runners share. It
holds no case, reference answer or mistake model; those live in the grader.

The Tensor checks write each expression once, against the assignment's Tensor API
(``EXPRS``). They are test programs, not answers: in the kernel an expression runs on
the student's ``Tensor``, and the grader runs the same expression on its own
reference Tensor.

Longer than 400 lines because the kernel side of 29 checks, the expression table the
grader shares, the backward-pass harness (budget, recursion headroom) and
``draw_graph`` must all ship in the student package.

Two checks are about *how* backward works, not only what it returns, and they
enforce that with deterministic budgets, never with wall-clock time:

- ``backward.long_chain`` runs ``backward`` on a 10,000-op chain with the
  interpreter's recursion limit set to ``RECURSION_HEADROOM`` frames above the
  caller. An iterative backward needs a few dozen frames; a recursive one (or a
  recursive topological sort) needs one or more per node and raises RecursionError.
- ``backward.diamond`` runs ``backward`` on a 40-level diamond under a profiler
  hook that counts Python function calls and aborts past a budget proportional
  to the graph's size (``CALLS_PER_NODE`` per node). A backward that evaluates
  each VJP once stays far below it; one that re-walks shared nodes needs about
  2**40 VJP calls and is stopped after a fraction of a second.
"""
from __future__ import annotations

import sys

import numpy as np

from ..checks import Spec, Specs, make_check

SPECS = Specs("vjp_autograd")

CHAIN_OPS = 10_000
DIAMOND_LEVELS = 40
RECURSION_HEADROOM = 400
CALLS_PER_NODE = 200


# --------------------------------------------------------------------------- per-op VJPs
# Ops that share a check; each check's spec names the NAME_vjp functions of its ops, and the
# grader finds an op's reference and mistake models through that name.
BINARY_ARITH_OPS = ("add", "sub", "mul", "div")
ARITH_OPS = BINARY_ARITH_OPS + ("neg",)
UNARY_OPS = ("exp", "log", "tanh")
# The Tensor's methods, besides its operators and the property T.
TENSOR_METHODS = ("exp", "log", "tanh", "relu", "sum", "mean", "maximum", "transpose", "reshape")


def _vjp_run(ns, inp):
    fn = getattr(ns, f"{inp['op']}_vjp")
    out = fn(inp["g"], *inp["args"], **inp.get("kwargs", {}))
    if "graded" in inp:  # only the first gradients are defined for this case
        return tuple(out)[: inp["graded"]]
    return out


# --------------------------------------------------------------------------- Tensor expressions
# Expressions written once against the Tensor API: leaves are Tensors, K holds plain constants.
def _e_ops1(a, b, c, K): return (a + b) * c - 2.5
def _e_ops2(a, b, c, K): return a / b - (-c) * 3.0
def _e_ops3(a, b, c, K): return (a - K["k"]) * (b + 1.5) / (c * 2.0)
def _e_refl1(a, b, c, K): return (2.0 - a) * (3.0 / b) + K["A"] @ c
def _e_refl2(a, b, K): return (K["k"] + a) - 4.0 * (K["m"] * b)
def _e_refl3(a, b, K): return 2.0 ** a + K["k"] ** b
def _e_pow1(a, b, K): return a ** 2 + b.exp() ** 3
def _e_pow2(a, b, c, d, K): return a ** 0.5 - b.exp() ** -1.0 + c ** d
def _e_pow3(a, b, K): return (a ** 3) * (-1.0) + b ** 2
def _e_meth1(a, b, c, K): return (a.tanh() + b.exp()).sum(axis=0) * c.log().mean()
def _e_meth2(a, b, K): return a.relu().maximum(b).transpose(2, 0, 1).reshape(a.value.shape[2], -1).T
def _e_meth3(a, b, K): return a.sum(axis=(0, 2), keepdims=True) + b.T.mean(axis=0, keepdims=True).T
def _e_meth4(a, b, K): return a.transpose(1, 0).maximum(b).mean(axis=-1)
def _e_meth5(a, b, K): return a.transpose((2, 0, 1)).reshape((a.value.shape[2], -1)).maximum(K["m"]) * b
def _e_mm1(a, b, K): return a @ b
def _e_mm2(a, b, c, K): return (a @ b) @ c
def _e_mm3(a, b, K): return a @ b


def _e_shared1(a, K): return a * a + a.exp() * a


def _e_shared2(a, b, K):
    u = a * b
    v = u.tanh()
    return (u * v + v).sum()


def _e_shared3(a, K):
    y = a
    for k in range(3):
        y = y.tanh() * K["c"][k] + y * K["d"][k]
    return y


def _e_seed1(a, b, K): return (a * b).tanh().sum()
def _e_seed2(a, b, K): return (a @ b).mean()


def _e_chain(a, K):
    y = a
    for k in range(CHAIN_OPS // 2):
        y = y * K["c"][k % len(K["c"])]
        y = y + K["d"][k % len(K["d"])]
    return y


def _e_diamond(a, K):
    y = a
    for k in range(DIAMOND_LEVELS):  # y feeds both branches of every level
        y = y.tanh() * K["c"][k] + y * K["d"][k]
    return y


EXPRS = {f.__name__[3:]: f for f in (
    _e_ops1, _e_ops2, _e_ops3, _e_refl1, _e_refl2, _e_refl3, _e_pow1, _e_pow2, _e_pow3, _e_meth1, _e_meth2,
    _e_meth3, _e_meth4, _e_meth5, _e_mm1, _e_mm2, _e_mm3, _e_shared1, _e_shared2, _e_shared3, _e_seed1, _e_seed2, _e_chain,
    _e_diamond)}


def _plain(x):
    """A student's array-like (or Tensor-like) as a float64 array, or the object itself."""
    if x is None:
        return None
    if hasattr(x, "value") and not isinstance(x, np.ndarray):
        x = x.value
    try:
        return np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        return x


def _student_leaves(ns, inp):
    T = ns.Tensor
    return [T(np.array(v, dtype=np.float64)) for v in inp["leaves"]]


def _expr_run(ns, inp):
    leaves = _student_leaves(ns, inp)
    out = EXPRS[inp["expr"]](*leaves, dict(inp["consts"]))
    out.backward(np.array(inp["cot"], dtype=np.float64))
    return {"value": _plain(out.value), "grads": tuple(_plain(t.grad) for t in leaves)}


# --------------------------------------------------------------------------- backward
def _acc_graphs(a, b, k):
    """Three different graphs over the same two leaves."""
    if k == 0:
        return a * b.tanh()
    if k == 1:
        return (a - b).exp() * 0.5
    return a / (b.exp() + 1.0)


def _accumulate_run(ns, inp):
    a, b = _student_leaves(ns, {"leaves": inp["leaves"]})
    snaps = []
    for k in range(2):
        _acc_graphs(a, b, k).backward(np.array(inp["cots"][k]))
        snaps.append((_plain(a.grad), _plain(b.grad)))
    a.zero_grad()
    b.zero_grad()
    zeroed = tuple(np.zeros(np.shape(inp["leaves"][i])) if t.grad is None else _plain(t.grad)
                   for i, t in enumerate((a, b)))
    _acc_graphs(a, b, 2).backward(np.array(inp["cots"][2]))
    snaps.append((_plain(a.grad), _plain(b.grad)))
    return {"after_first": snaps[0], "after_second": snaps[1], "after_zero_grad": zeroed,
            "after_third": snaps[2]}


def _error_outcome(call, errors):
    try:
        call()
    except errors as exc:
        return "raised an error with a message" if str(exc).strip() else "raised an error without a message"
    return "returned without an error"


def _seed_run(ns, inp):
    leaves = _student_leaves(ns, inp)
    out = EXPRS[inp["expr"]](*leaves, dict(inp["consts"]))
    if inp["mode"] == "error":
        return _error_outcome(out.backward, (ValueError, RuntimeError))
    out.backward()
    return tuple(_plain(t.grad) for t in leaves)


class BackwardBudgetExceeded(RuntimeError):
    pass


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def _with_recursion_headroom(fn):
    """Run fn with the recursion limit RECURSION_HEADROOM frames above the current depth."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + RECURSION_HEADROOM)
    try:
        return fn()
    except RecursionError:
        raise RecursionError(f"backward went more than {RECURSION_HEADROOM} calls deep on a"
                             f" {CHAIN_OPS}-op chain: it must not recurse (use an explicit stack)") from None
    finally:
        sys.setrecursionlimit(old)


def _with_call_budget(fn, budget):
    """Run fn, aborting once it has made more than ``budget`` Python function calls."""
    count = [0]
    previous = sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call":
            count[0] += 1
            if count[0] > budget:
                raise BackwardBudgetExceeded(
                    f"backward made more than {budget} Python calls on a {DIAMOND_LEVELS}-level diamond:"
                    " it evaluates VJPs of shared nodes more than once (re-walks the graph)")

    sys.setprofile(profiler)
    try:
        return fn()
    finally:
        sys.setprofile(previous)


def _count_nodes(out):
    """Nodes reachable from out through .parents (only to size the budget)."""
    seen, stack = set(), [out]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for attr in ("parents", "_parents", "_prev", "children", "inputs"):
            if getattr(node, attr, None):
                stack.extend(getattr(node, attr))
                break
    return len(seen)


def _big_run(ns, inp):
    leaves = _student_leaves(ns, inp)
    out = EXPRS[inp["expr"]](*leaves, dict(inp["consts"]))
    cot = np.array(inp["cot"], dtype=np.float64)
    if inp["expr"] == "chain":
        _with_recursion_headroom(lambda: out.backward(cot))
    else:
        nodes = max(_count_nodes(out), 6 * DIAMOND_LEVELS)
        _with_call_budget(lambda: out.backward(cot), CALLS_PER_NODE * nodes)
    return {"value": _plain(out.value), "grads": tuple(_plain(t.grad) for t in leaves)}


# --------------------------------------------------------------------------- numerical Jacobian
def _nj_fn(name, m, W):
    """The functions whose Jacobians are estimated; m is numpy (here), or the grader's autodiff module."""
    if name == "tanh_linear":
        return lambda x: m.tanh(W @ x) + x[0] * x[-1]
    if name == "scalar":
        return lambda x: m.sum(m.sin(x) * x) + m.exp(x[0])
    if name == "matrix_in":
        return lambda x: m.reshape(m.tanh(x @ W), (-1,))
    if name == "matrix_out":
        return lambda x: x @ x + m.sin(x) * W
    raise KeyError(name)


def _nj_run(ns, inp):
    f = _nj_fn(inp["f"], np, inp["W"])
    return ns.numerical_jacobian(lambda x: np.asarray(f(np.asarray(x)), dtype=np.float64), inp["x"])


# --------------------------------------------------------------------------- logistic regression
def _logreg_run(ns, inp):
    w, b, losses = ns.fit_logistic_regression(inp["X"], inp["y"], inp["lr"], inp["steps"], inp["w0"], inp["b0"])
    b = _plain(b)
    return {"w": _plain(w), "b": b.reshape(()) if isinstance(b, np.ndarray) and b.size == 1 else b,
            "losses": _plain(list(_plain(v) for v in losses))}


# --------------------------------------------------------------------------- the checks
def _unbroadcast_spec(id, title):
    SPECS.add(Spec(id=id, title=title, run=lambda ns, x: ns.unbroadcast(x["target"], x["g"]),
                   functions=("unbroadcast",)))


def _vjp_spec(id, ops, what, hint=""):
    """A check of the NAME_vjp of each op in ops; its title starts with the ops' names."""
    SPECS.add(Spec(id=id, title=f"{'/'.join(ops)} {what}", run=_vjp_run, functions=tuple(f"{op}_vjp" for op in ops),
                   hint=hint))


def _tensor_spec(id, title, hint="", run=_expr_run, rtol=1e-7, atol=1e-9):
    SPECS.add(Spec(id=id, title=title, run=run, functions=("Tensor",), hint=hint, rtol=rtol, atol=atol))


_unbroadcast_spec("unbroadcast.leading_axes", "unbroadcast sums away leading axes that broadcasting added")
_unbroadcast_spec("unbroadcast.size_one_axes", "unbroadcast also sums (keeping the axis) where the target has size 1")

_vjp_spec("elementwise.arith", ARITH_OPS, "VJPs on inputs of the same shape")
_vjp_spec("elementwise.arith_broadcast", BINARY_ARITH_OPS, "VJPs when the inputs broadcast",
          hint="each gradient must be unbroadcast to the shape of its own input.")
_vjp_spec("elementwise.pow", ("pow",), "VJP: negative bases with integer exponents, positive bases with real ones")
_vjp_spec("elementwise.unary", UNARY_OPS, "VJPs")
_vjp_spec("maximum.distinct", ("maximum",), "VJP without ties (with broadcasting)")
_vjp_spec("maximum.ties", ("maximum",), "VJP on ties: g/2 to each side", hint="where a == b each side gets half of g.")

_vjp_spec("matmul.matrix", ("matmul",), "VJP for 2-D @ 2-D (non-square)", hint="dL/dA = G B^T and dL/dB = A^T G.")
_vjp_spec("matmul.vector", ("matmul",), "VJP for 1-D @ 1-D, 2-D @ 1-D and 1-D @ 2-D",
          hint="promote a 1-D operand to a matrix, then undo the promotion.")
_vjp_spec("matmul.batched", ("matmul",), "VJP for stacks of matrices with broadcast batch dimensions",
          hint="transpose only the last two axes, then unbroadcast over the batch axes.")
_vjp_spec("matmul.vector_nd", ("matmul",), "VJP for a 1-D operand with an N-D (N > 2) operand",
          hint="promote the 1-D operand to (1, n) or (n, 1), and expand G the same way.")

_vjp_spec("reduce.sum", ("sum",), "VJP for axis None / int / negative int / tuple, with and without keepdims",
          hint="re-insert the summed axes (np.expand_dims), then broadcast.")
_vjp_spec("reduce.mean", ("mean",), "VJP for the same axis choices")
_vjp_spec("shape.transpose", ("transpose",), "VJP with default and explicit axes")
_vjp_spec("shape.reshape", ("reshape",), "VJP")

_tensor_spec("tensor.operators", "Tensor + - * / and unary -, between Tensors and with constants, broadcasting",
             hint="each operator builds a node whose VJP is the matching NAME_vjp.")
_tensor_spec("tensor.reflected", "reflected operators: 2 - t, 3 / t, 2 ** t, A @ t, K + t, K * t, K ** t with numpy K",
             hint="define __radd__, __rsub__, __rmul__, __rtruediv__, __rmatmul__, __rpow__, and set"
                  " __array_ufunc__ = None so that numpy arrays on the left defer to the Tensor.")
_tensor_spec("tensor.pow", "Tensor ** with negative bases and integer exponents, positive bases and real exponents",
             hint="pow_vjp must handle negative bases: use p * x**(p-1), not exp(p*log(x)).")
_tensor_spec("tensor.methods", "Tensor " + "/".join(TENSOR_METHODS + ("T",)))
_tensor_spec("tensor.matmul", "Tensor @ for matrices, matrix-vector and chained products")

_tensor_spec("backward.shared", "backward adds up the contributions of a node used more than once",
             hint="a node's gradient is the sum over all the nodes that use it; process each node only"
                  " after every node that uses it (reverse topological order).")
_tensor_spec("backward.accumulate", "gradients accumulate over backward calls like torch's; zero_grad() resets them",
             run=_accumulate_run,
             hint="backward adds into .grad (it never overwrites it); zero_grad() sets .grad to zeros.")
_tensor_spec("backward.seed", "backward() without a gradient: ones for a scalar, a clear error otherwise",
             run=_seed_run,
             hint="backward(grad=None) uses np.ones_like(value) for a scalar output and raises ValueError"
                  " (with a message) for any other shape.")
_tensor_spec("backward.long_chain", f"backward on a {CHAIN_OPS}-op chain without recursion", run=_big_run,
             hint="walk the graph with an explicit stack or queue, never with recursion.")
_tensor_spec("backward.diamond", f"backward on a {DIAMOND_LEVELS}-level diamond evaluates each VJP once",
             run=_big_run, hint="sort the graph topologically once, then visit each node once in reverse order.")

for _cid, _title in (
        ("numjac.vector", "central-difference Jacobian of functions of a vector"),
        ("numjac.tensor", "central-difference Jacobian of functions of a matrix: shape f(x).shape + x.shape")):
    SPECS.add(Spec(id=_cid, title=_title, run=_nj_run, functions=("numerical_jacobian",), rtol=1e-7, atol=1e-8,
                   hint="J[i..., j...] = (f(x + h e_j) - f(x - h e_j))[i...] / (2h), with h = 1e-6."))

SPECS.add(Spec(
    id="logreg.fit", title="logistic regression by gradient descent with your Tensor matches torch",
    run=_logreg_run, functions=("fit_logistic_regression",), rtol=1e-6, atol=1e-9,
    hint="record the loss *before* each update; update w and b with lr times the mean-loss gradient."))


# --------------------------------------------------------------------------- drawing (not graded)
class _Drawing:
    """A graphviz graph that shows as a picture where Graphviz's ``dot`` program is installed, and
    as its DOT text with a one-line note where it is not (instead of an error that stops Run All)."""

    def __init__(self, graph):
        self.graph = graph

    def _repr_mimebundle_(self, include=None, exclude=None):
        from graphviz import ExecutableNotFound
        try:
            return self.graph._repr_mimebundle_(include, exclude)
        except ExecutableNotFound:
            return {"text/plain": "(install Graphviz's `dot` program to see this drawing; its DOT text:)\n"
                                  + self.graph.source}

    def __getattr__(self, name):  # render(), source, ...: the graphviz graph's own
        return getattr(self.graph, name)


def draw_graph(root, rankdir="LR"):
    """A graphviz drawing of the graph behind ``root``: one box per Tensor with its value and grad.

    Reads ``.parents`` (the input Tensors) and ``.op`` (a short name) when the Tensor has them.
    """
    from graphviz import Digraph

    def text(a):
        return "None" if a is None else np.array2string(np.asarray(a), precision=3, suppress_small=True)

    dot = Digraph(graph_attr={"rankdir": rankdir}, node_attr={"shape": "record", "fontsize": "10"})
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        name = str(id(node))
        label = f"{{ v = {text(node.value)} | g = {text(getattr(node, 'grad', None))} }}"
        dot.node(name, label.replace("\n", " "))
        parents = tuple(getattr(node, "parents", ()) or ())
        if parents:
            op_name = name + "_op"
            dot.node(op_name, str(getattr(node, "op", "") or "op"), shape="circle")
            dot.edge(op_name, name)
            for p in parents:
                dot.edge(str(id(p)), op_name)
                stack.append(p)
    return _Drawing(dot)


check = make_check(SPECS)
