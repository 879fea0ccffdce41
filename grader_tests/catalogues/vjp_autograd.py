"""Synthetic submissions for vjp_autograd: classic wrong answers and correct alternatives.

Most entries replace one solution cell with a short function. Entries about the
``Tensor`` change single methods of the reference ``Tensor`` (read from
``course/vjp_autograd.cells``), so each one differs from the reference in
exactly the way its name says.

A wrong answer lists every check it must lose. Besides the check written for
the mistake, that includes the checks that use the broken function through
the student's own code: the Tensor uses the VJPs, and the logistic
regression uses the Tensor. (Over 400 lines: it is data, one entry per mistake.)
"""
import re
from pathlib import Path

from dlgrade_grader.authoring import parse_cells
from dlgrade_grader.submissions import SOLUTION_MARK, Alternative, Wrong

CELLS = Path(__file__).resolve().parents[2] / "course" / "vjp_autograd.cells"


def _reference(grade_id: str) -> str:
    for cell in parse_cells(CELLS.read_text(encoding="utf-8")):
        if cell["kind"] == "solution" and cell["attrs"].get("id") == grade_id:
            return SOLUTION_MARK.sub("", cell["source"])
    raise KeyError(grade_id)


_NEXT_MEMBER = re.compile(r"\n    (?=def |T = |\S)")


def tensor_with(drop=(), **methods) -> dict:
    """The reference Tensor cell with some methods replaced, added or removed.

    ``methods`` maps a method name to its new source (indented for the class
    body, starting with ``    def``); ``drop`` lists methods to delete.
    """
    src = _reference("Tensor")
    for name in list(methods) + list(drop):
        start = src.find(f"\n    def {name}(")
        if start < 0:
            if name in drop:
                raise KeyError(name)
            src = src.rstrip("\n") + "\n\n" + methods[name].rstrip("\n") + "\n"
            continue
        end = _NEXT_MEMBER.search(src, start + 5)
        end = end.start() if end else len(src)
        new = "" if name in drop else "\n" + methods[name].rstrip("\n")
        src = src[:start] + new + src[end:]
    return {"Tensor": src}


def backward_replacing(old: str, new: str) -> dict:
    """The reference Tensor with one line of its backward method changed."""
    src = _reference("Tensor")
    if src.count(old) != 1:
        raise ValueError(f"{old!r} is not a unique line of the reference Tensor")
    return {"Tensor": src.replace(old, new)}


def fn(grade_id: str, source: str) -> dict:
    return {grade_id: source.strip("\n") + "\n"}


# ----------------------------------------------------------------------------- wrong answers
SEED_RECURSIVE_BACKWARD = '''
    def backward(self, grad=None):
        if grad is None:
            if self.value.size != 1:
                raise ValueError("backward() without a gradient needs a scalar output")
            grad = np.ones_like(self.value)
        grad = np.asarray(grad, dtype=np.float64)
        self.grad = grad if self.grad is None else self.grad + grad
        if self.vjp is not None:
            parent_grads = self.vjp(grad, *(p.value for p in self.parents), **self.kwargs)
            for p, g in zip(self.parents, parent_grads):
                p.backward(g)
'''

RECURSIVE_TOPO = '''
    def _topological_order(self):
        order, seen = [], set()

        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for p in node.parents:
                visit(p)
            order.append(node)

        visit(self)
        return order
'''

SEED_DIV_ONLY_TENSOR = tensor_with(
    drop=("__truediv__", "__rtruediv__", "__rsub__", "__rmatmul__"),
    __div__="    def __div__(self, other): return self * (Tensor.lift(other) ** -1)",
)

def _promoted_matmul_vjp(*body: str) -> str:
    """A matmul_vjp that promotes 1-D operands the right way, then ends with ``body``'s lines."""
    return "\n" + """def matmul_vjp(dldf, A, B):
    A, B, G = (np.asarray(v, dtype=np.float64) for v in (A, B, dldf))
    A2 = A[np.newaxis, :] if A.ndim == 1 else A
    B2 = B[:, np.newaxis] if B.ndim == 1 else B
    if B.ndim == 1:
        G = np.expand_dims(G, -1)
    if A.ndim == 1:
        G = np.expand_dims(G, -2)
""" + "".join(f"    {line}\n" for line in body).rstrip("\n")


WRONG = [
    # an answer the record format refuses (int() stops at 4300 digits) fails its own checks only
    Wrong("numerical_jacobian_returns_a_5000_digit_int",
          fn("numerical_jacobian", "def numerical_jacobian(f, x, h=1e-6):\n    return 10 ** 5000"),
          fails=["numjac.vector", "numjac.tensor"], note="one unreadable answer never costs the notebook"),
    Wrong("no_unbroadcast_in_add", fn("add_vjp", "def add_vjp(dldf, a, b):\n    return dldf, dldf"),
          fails=["elementwise.arith_broadcast"],
          note="add_vjp forgets unbroadcast"),
    Wrong("unbroadcast_leading_axes_only", fn("unbroadcast", '''
def unbroadcast(target, g):
    g = np.asarray(g, dtype=np.float64)
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    return g'''), fails=["unbroadcast.size_one_axes"]),
    Wrong("unbroadcast_size_one_axes_only", fn("unbroadcast", '''
def unbroadcast(target, g):
    g = np.asarray(g, dtype=np.float64)
    shape = np.shape(target)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[g.ndim - len(shape) + axis] != 1:
            g = g.sum(axis=g.ndim - len(shape) + axis, keepdims=True)
    return g'''), fails=["unbroadcast.leading_axes", "unbroadcast.size_one_axes"]),
    Wrong("unbroadcast_without_keepdims", fn("unbroadcast", '''
def unbroadcast(target, g):
    g = np.asarray(g, dtype=np.float64)
    shape = np.shape(target)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis in reversed(range(len(shape))):
        if shape[axis] == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis)
    return g'''), fails=["unbroadcast.size_one_axes"], says=("keepdims=True",)),
    Wrong("sum_vjp_in_float32", fn("sum_vjp", '''
def sum_vjp(dldf, x, axis=None, keepdims=False):
    g = np.asarray(dldf, dtype=np.float32)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return (np.broadcast_to(g, np.shape(x)).copy(),)'''), fails=["reduce.sum"],
          says=("compute in float64",)),
    Wrong("reshape_to_forward_shape", fn("reshape_vjp", '''
def reshape_vjp(dldf, x, shape):
    return (np.reshape(dldf, shape),)'''), fails=["shape.reshape"]),
    Wrong("matmul_G_times_B", fn("matmul_vjp", _promoted_matmul_vjp(
        "dA = G @ B2", "dB = A2 @ G",
        "return unbroadcast(A2, dA).reshape(A.shape), unbroadcast(B2, dB).reshape(B.shape)")),
          fails=["matmul.matrix", "matmul.vector", "matmul.batched", "matmul.vector_nd"],
          note="G @ B instead of G @ B.T (and A @ G instead of A.T @ G)"),
    Wrong("matmul_swapped_gradients", fn("matmul_vjp", _promoted_matmul_vjp(
        "dA = np.swapaxes(A2, -1, -2) @ G", "dB = G @ np.swapaxes(B2, -1, -2)",
        "return unbroadcast(B2, dB).reshape(B.shape), unbroadcast(A2, dA).reshape(A.shape)")),
          fails=["matmul.matrix", "matmul.vector", "matmul.batched", "matmul.vector_nd"]),
    Wrong("seed_matmul_1d_with_nd", fn("matmul_vjp", '''
def matmul_vjp(dldF, A, B):
    G = np.asarray(dldF, dtype=np.float64)
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    if G.ndim == 0:
        return unbroadcast(A, G * B), unbroadcast(B, G * A)
    if A.ndim >= 2 and B.ndim >= 2:
        dldA = G @ B.swapaxes(-2, -1)
        dldB = A.swapaxes(-2, -1) @ G
    if A.ndim == 1:
        dldA = G @ B.swapaxes(-2, -1)
        dldB = A[np.newaxis, :].swapaxes(-2, -1) @ G[np.newaxis, :]
    elif B.ndim == 1:
        dldA = G[:, np.newaxis] @ B[:, np.newaxis].swapaxes(-2, -1)
        dldB = A.swapaxes(-2, -1) @ G
    return unbroadcast(A, dldA), unbroadcast(B, dldB)'''), fails=["matmul.vector_nd"],
          note="the seed notes' matmul_vjp: breaks for a 1-D operand with an N-D (N > 2) one"),
    Wrong("log_vjp_times_x", fn("log_vjp", "def log_vjp(dldf, x):\n    return (dldf * x,)"),
          fails=["elementwise.unary"]),
    Wrong("tanh_vjp_not_squared", fn("tanh_vjp", "def tanh_vjp(dldf, x):\n    return (dldf * (1 - np.tanh(x)),)"),
          fails=["elementwise.unary"]),
    Wrong("sum_vjp_ignores_axis", fn("sum_vjp", '''
def sum_vjp(dldf, x, axis=None, keepdims=False):
    return (dldf * np.ones_like(x),)'''), fails=["reduce.sum"],
          note="mean_vjp reuses sum_vjp, so the mean is wrong too"),
    Wrong("mean_vjp_missing_1_over_n", fn("mean_vjp", '''
def mean_vjp(dldf, x, axis=None, keepdims=False):
    return sum_vjp(dldf, x, axis=axis, keepdims=keepdims)'''),
          fails=["reduce.mean"]),
    Wrong("transpose_vjp_same_axes", fn("transpose_vjp", '''
def transpose_vjp(dldf, x, axes=None):
    return (np.transpose(dldf, axes),)'''), fails=["shape.transpose"],
          note="applies the permutation instead of its inverse"),
    Wrong("maximum_vjp_without_unbroadcast", fn("maximum_vjp", '''
def maximum_vjp(dldf, a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    share_a = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))
    return dldf * share_a, dldf * (1.0 - share_a)'''), fails=["maximum.distinct"],
          note="the gradient keeps the broadcast shape"),
    Wrong("tensor_matmul_with_dot", tensor_with(
        __matmul__='    def __matmul__(self, other):\n        return self._binary(other, np.dot, matmul_vjp, "@")'),
          fails=["tensor.matmul"], note="np.dot is not matmul for stacks of matrices"),
    Wrong("tensor_mean_forgets_its_axis", tensor_with(
        mean='    def mean(self, axis=None, keepdims=False):\n'
             '        return Tensor(np.mean(self.value, axis=axis, keepdims=keepdims), (self,), mean_vjp, "mean")'),
          fails=["tensor.methods"], note="the node does not record axis, so mean_vjp divides by every element"),
    Wrong("maximum_ties_to_b", fn("maximum_vjp", '''
def maximum_vjp(dldf, a, b):
    dlda = dldf * np.where(a > b, 1.0, 0.0)
    dldb = dldf * np.where(a > b, 0.0, 1.0)
    return unbroadcast(a, dlda), unbroadcast(b, dldb)'''), fails=["maximum.ties"],
          note="the seed notes' tie rule"),
    Wrong("div_vjp_wrong_sign", fn("div_vjp", '''
def div_vjp(dldf, a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return unbroadcast(a, dldf / b), unbroadcast(b, dldf * a / b ** 2)'''),
          fails=["elementwise.arith", "elementwise.arith_broadcast"]),
    Wrong("sub_vjp_no_minus",
          fn("sub_vjp", "def sub_vjp(dldf, a, b):\n    return unbroadcast(a, dldf), unbroadcast(b, dldf)"),
          fails=["elementwise.arith", "elementwise.arith_broadcast"]),
    Wrong("pow_vjp_via_exp_log", fn("pow_vjp", '''
def pow_vjp(dldf, x, p):
    x, p = np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64)
    dldx = dldf * p * np.exp((p - 1) * np.log(x))
    dldp = dldf * np.exp(p * np.log(x)) * np.log(x)
    return unbroadcast(x, dldx), unbroadcast(p, dldp)'''), fails=["elementwise.pow"]),
    Wrong("tensor_pow_via_exp_log", tensor_with(
        __pow__="    def __pow__(self, other): return (self.log() * other).exp()"), fails=["tensor.pow"],
          note="the seed notes' Tensor.__pow__"),
    Wrong("seed_div_only_tensor", SEED_DIV_ONLY_TENSOR,
          fails=["tensor.operators", "tensor.reflected", "backward.accumulate"],
          note="Python 2's __div__, no __rsub__ / __rtruediv__ / __rmatmul__"),
    Wrong("seed_recursive_backward", tensor_with(backward=SEED_RECURSIVE_BACKWARD),
          fails=["backward.long_chain", "backward.diamond"],
          note="recurses along every path: too deep for the chain, exponential on the diamond"),
    Wrong("recursive_topological_sort", tensor_with(_topological_order=RECURSIVE_TOPO),
          fails=["backward.long_chain"]),
    Wrong("backward_overwrites_shared_gradients", backward_replacing(
        "pending[id(p)] = pg if id(p) not in pending else pending[id(p)] + pg", "pending[id(p)] = pg"),
          fails=["backward.shared", "backward.diamond"],
          note="a node used twice keeps only the last contribution"),
    Wrong("backward_overwrites_across_calls", backward_replacing(
        "node.grad = g if node.grad is None else node.grad + g", "node.grad = g"), fails=["backward.accumulate"]),
    Wrong("backward_nonscalar_uses_ones", backward_replacing("if self.value.size != 1:", "if False:"),
          fails=["backward.seed"], note="no error for backward() on a non-scalar output"),
    Wrong("zero_grad_does_nothing", tensor_with(zero_grad="    def zero_grad(self):\n        pass"),
          fails=["backward.accumulate"]),
    Wrong("numjac_seed_forward_difference", fn("numerical_jacobian", '''
def numerical_jacobian(f, x, h=1e-10):
    x = np.array(x, dtype=np.float64)
    y0 = np.asarray(f(x))
    J = np.empty(y0.shape + x.shape)
    for j in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[j] = h
        J[(Ellipsis,) + j] = (np.asarray(f(x + step)) - y0) / h
    return J'''), fails=["numjac.vector", "numjac.tensor"]),
    Wrong("numjac_transposed_layout", fn("numerical_jacobian", '''
def numerical_jacobian(f, x, h=1e-6):
    x = np.array(x, dtype=np.float64)
    J = np.empty(x.shape + np.shape(f(x)))
    for j in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[j] = h
        J[j] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h)
    return J'''), fails=["numjac.vector", "numjac.tensor"],
          note="x.shape + f(x).shape instead of f(x).shape + x.shape"),
    # ---- contract sentences that only the newer cases call
    Wrong("unbroadcast_needs_an_array_target", fn("unbroadcast", '''
def unbroadcast(target, g):
    g = np.asarray(g, dtype=np.float64)
    shape = target.shape
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g'''), fails=["unbroadcast.leading_axes"],
          note="target.shape: a Python-number target (shape ()) raises AttributeError"),
    Wrong("pow_vjp_zero_to_the_minus_one", fn("pow_vjp", '''
def pow_vjp(dldf, x, p):
    x, p = np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64)
    dldx = dldf * p * x ** (p - 1)
    safe_log = np.log(np.where(x > 0, x, 1.0))
    dldp = dldf * x ** p * safe_log
    return unbroadcast(x, dldx), unbroadcast(p, dldp)'''), fails=["elementwise.pow"],
          note="p = 0 at x = 0 gives 0 * 0 ** -1 = NaN instead of 0"),
    Wrong("pow_vjp_log_of_zero", fn("pow_vjp", '''
def pow_vjp(dldf, x, p):
    x, p = np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64)
    dldx = dldf * p * x ** np.where(p == 0, 1.0, p - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dldp = dldf * x ** p * np.log(x)
    return unbroadcast(x, dldx), unbroadcast(p, dldp)'''), fails=["elementwise.pow"],
          note="the exponent's gradient x**p log x is NaN (or -inf) at x = 0 instead of 0"),
    Wrong("tensor_without_rpow", tensor_with(drop=("__rpow__",)), fails=["tensor.reflected"],
          note="2 ** t and K ** t raise TypeError"),
    Wrong("tensor_reshape_separate_ints_only", tensor_with(reshape='''
    def reshape(self, *shape):
        return Tensor(self.value.reshape(shape), (self,), reshape_vjp, "reshape", {"shape": shape})'''),
          fails=["tensor.methods"], note="t.reshape((2, -1)) is refused"),
    Wrong("tensor_transpose_separate_ints_only", tensor_with(transpose='''
    def transpose(self, *axes):
        axes = axes or None
        return Tensor(np.transpose(self.value, axes), (self,), transpose_vjp, "T", {"axes": axes})'''),
          fails=["tensor.methods"], note="t.transpose((2, 0, 1)) is refused"),
    Wrong("tensor_maximum_of_tensors_only", tensor_with(maximum='''
    def maximum(self, other):
        return Tensor(np.maximum(self.value, other.value), (self, other), maximum_vjp, "max")'''),
          fails=["tensor.methods"], note="maximum(K) with a numpy array K is refused (no Tensor.lift)"),
    Wrong("numjac_keeps_integer_dtype", fn("numerical_jacobian", '''
def numerical_jacobian(f, x, h=1e-6):
    x = np.array(x)
    J = np.empty(np.shape(f(x)) + x.shape)
    for j in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[j] = h
        J[(Ellipsis,) + j] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h)
    return J'''), fails=["numjac.vector"],
          note="an integer x gives an integer step: h rounds to 0"),
    Wrong("logreg_loss_after_update", fn("fit_logistic_regression", '''
def fit_logistic_regression(X, y, lr, steps, w0, b0):
    w_val, b_val = np.array(w0, dtype=np.float64), float(b0)

    def loss_of(w, b):
        p = 1.0 / (1.0 + (-(X @ w + b)).exp())
        return -(y * p.log() + (1.0 - y) * (1.0 - p).log()).mean()

    losses = []
    for _ in range(steps):
        w, b = Tensor(w_val), Tensor(b_val)
        loss_of(w, b).backward()
        w_val = w_val - lr * w.grad
        b_val = b_val - lr * float(b.grad)
        losses.append(float(loss_of(Tensor(w_val), Tensor(b_val)).value))
    return w_val, b_val, np.array(losses)'''), fails=["logreg.fit"]),
]


# ----------------------------------------------------------------------------- correct alternatives
KAHN_BACKWARD = '''
    def backward(self, grad=None):
        if grad is None:
            if self.value.ndim != 0:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad = np.ones_like(self.value)
        # count, for every node, how many uses of it lie between it and the output
        users, stack, seen = {}, [self], {id(self)}
        while stack:
            node = stack.pop()
            for p in node.parents:
                users[id(p)] = users.get(id(p), 0) + 1
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append(p)
        pending = {id(self): np.asarray(grad, dtype=np.float64)}
        ready = [self]
        while ready:  # Kahn's algorithm on the reversed graph
            node = ready.pop()
            g = pending.pop(id(node))
            node.grad = g if node.grad is None else node.grad + g
            if node.vjp is None:
                continue
            for p, pg in zip(node.parents, node.vjp(g, *(q.value for q in node.parents), **node.kwargs)):
                pending[id(p)] = pending[id(p)] + pg if id(p) in pending else pg
                users[id(p)] -= 1
                if users[id(p)] == 0:
                    ready.append(p)
'''

ITERATOR_DFS_TOPO = '''
    def _topological_order(self):
        order, seen = [], {id(self)}
        stack = [(self, iter(self.parents))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order
'''

EINSUM_MATMUL = '''
def matmul_vjp(dldf, A, B):
    A, B, G = (np.asarray(v, dtype=np.float64) for v in (A, B, dldf))
    if A.ndim == 1 and B.ndim == 1:
        return G * B, G * A
    A2 = A[np.newaxis, :] if A.ndim == 1 else A
    B2 = B[:, np.newaxis] if B.ndim == 1 else B
    G2 = G
    if B.ndim == 1:
        G2 = G2[..., np.newaxis]
    if A.ndim == 1:
        G2 = G2[..., np.newaxis, :]
    dA = np.einsum("...ik,...jk->...ij", G2, B2)
    dB = np.einsum("...ki,...kj->...ij", A2, G2)
    return unbroadcast(A2, dA).reshape(A.shape), unbroadcast(B2, dB).reshape(B.shape)
'''

LOOP_UNBROADCAST = '''
def unbroadcast(target, g):
    g = np.array(g, dtype=np.float64)
    shape = np.shape(target)
    for _ in range(g.ndim - len(shape)):
        g = np.sum(g, axis=0)
    for axis in range(len(shape)):
        if shape[axis] == 1:
            g = np.sum(g, axis=axis, keepdims=True)
    return g
'''

ADD_REDUCE_UNBROADCAST = '''
def unbroadcast(target, g):
    g = np.asarray(g, dtype=np.float64)
    shape = np.shape(target)
    lead = g.ndim - len(shape)
    g = np.add.reduce(g, axis=tuple(range(lead))) if lead else g
    stretched = tuple(i for i, n in enumerate(shape) if n == 1)
    return np.add.reduce(g, axis=stretched, keepdims=True) if stretched else g
'''

ALTERNATIVES = [
    Alternative("reduce_to_shape", fn("unbroadcast", '''
def unbroadcast(target, g):
    shape = np.shape(target)
    lead = np.ndim(g) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)
    return np.sum(g, axis=axes).reshape(shape)''')),
    Alternative("loop_unbroadcast", fn("unbroadcast", LOOP_UNBROADCAST)),
    Alternative("add_reduce_unbroadcast", fn("unbroadcast", ADD_REDUCE_UNBROADCAST)),
    Alternative("einsum_matmul_vjp", fn("matmul_vjp", EINSUM_MATMUL)),
    Alternative("iterator_dfs_topological_sort", tensor_with(_topological_order=ITERATOR_DFS_TOPO)),
    Alternative("kahn_backward", tensor_with(backward=KAHN_BACKWARD, drop=("_topological_order",))),
    Alternative("zero_grad_to_none", tensor_with(zero_grad="    def zero_grad(self):\n        self.grad = None")),
    Alternative("mean_counts_axes", fn("mean_vjp", '''
def mean_vjp(dldf, x, axis=None, keepdims=False):
    shape = np.shape(x)
    if axis is None:
        n = np.prod(shape)
    else:
        axes = (axis,) if np.ndim(axis) == 0 else axis
        n = np.prod([shape[a] for a in axes])
    return (sum_vjp(dldf, x, axis=axis, keepdims=keepdims)[0] / n,)''')),
    Alternative("relu_via_maximum", tensor_with(relu="    def relu(self):\n        return self.maximum(0.0)")),
]

ATTACKS = []  # assignment-independent attacks live in shared_attacks
