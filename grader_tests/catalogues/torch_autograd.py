"""Catalogue for torch_autograd: realistic wrong answers, correct alternatives, torch-kernel attacks.

The wrong answers are the mistakes people make with torch's autograd: float32 tensors, a
gradient read from a non-leaf, a gradient never zeroed (or zeroed with `zero_` and no
parentheses), chunk losses that do not add up to the batch loss, snapshots that alias
`.grad`, rows and columns of a Jacobian swapped, and the derivation slips of a tanh
layer's backward. jacobian_from_jvps calls the student's jvp, so a wrong jvp also fails
its checks (the uses-graph knows; ``fails`` lists only the function's own checks).
"""
from dlgrade_grader.submissions import Alternative, Attack, Wrong


def _fn(header, *body):
    """A solution cell: ``def header:`` followed by the indented body lines."""
    return "def " + header + ":\n" + "".join(f"    {line}\n" for line in body)


MSE = ("mse_weight_grad.values", "mse_weight_grad.float64")
GD = ("gd_with_autograd.trajectory",)
RUN = ("running_gradients.equal_chunks", "running_gradients.unequal_chunks")
VJP_JAC = ("jacobian_from_vjps.wide", "jacobian_from_vjps.tall", "jacobian_from_vjps.square")
JVP_JAC = ("jacobian_from_jvps.wide", "jacobian_from_jvps.tall")
BACKWARD = ("mlp_backward.values", "mlp_backward.square")
AUTOGRAD = ("mlp_grads_autograd.values", "mlp_grads_autograd.float64")


def _gd(clear, update="with torch.no_grad():\n            w -= lr * w.grad"):
    return _fn("gd_with_autograd(w0, X, y, lr, steps)",
               "X, y = torch.as_tensor(X), torch.as_tensor(y)",
               "w = torch.tensor(w0, requires_grad=True)",
               "losses = []",
               "for _ in range(steps):",
               f"    {clear}",
               "    loss = ((X @ w - y) ** 2).mean()",
               "    losses.append(loss.item())",
               "    loss.backward()",
               f"    {update}",
               "losses.append(((X @ w - y) ** 2).mean().item())",
               "return w.detach(), losses")


def _running(chunk_loss, after="rows.append(w.grad.clone())", before=""):
    return _fn("running_gradients(w, X, y, chunks)",
               "X, y = torch.as_tensor(X), torch.as_tensor(y)",
               "w = torch.tensor(w, requires_grad=True)",
               "N, K = X.shape[0], len(chunks)",
               "rows, start = [], 0",
               "for size in chunks:",
               "    Xk, yk = X[start:start + size], y[start:start + size]",
               *([f"    {before}"] if before else []),
               f"    ({chunk_loss}).backward()",
               f"    {after}",
               "    start += size",
               "return torch.stack(rows)")


def _vjp_rows(clear="x.grad = None", stack="torch.stack(rows)", store="rows.append(x.grad)"):
    return _fn("jacobian_from_vjps(f, x)",
               "x = x.detach().clone().requires_grad_(True)",
               "y = f(x)",
               "rows = []",
               "for i in range(y.shape[0]):",
               "    e = torch.zeros_like(y)",
               "    e[i] = 1.0",
               *([f"    {clear}"] if clear else []),
               "    y.backward(e, retain_graph=True)",
               f"    {store}",
               f"return {stack}")


def _backward(dtanh="(1.0 - H ** 2)", scale="1.0 / X.shape[0]", db1="dZ.sum(axis=0)", dW1="dZ.T @ X"):
    return _fn("mlp_backward(X, H, W2, R)",
               f"s = {scale}",
               f"dZ = s * (R @ W2) * {dtanh}",
               f"return {dW1}, {db1}, s * R.T @ H, s * R.sum(axis=0)")


def _autograd(make="torch.tensor(p, dtype=torch.float64, requires_grad=True)", half="0.5"):
    return _fn("mlp_grads_autograd(W1, b1, W2, b2, X, Y)",
               f"params = [{make} for p in (W1, b1, W2, b2)]",
               "W1t, b1t, W2t, b2t = params",
               "X, Y = torch.as_tensor(X, dtype=params[0].dtype), torch.as_tensor(Y, dtype=params[0].dtype)",
               "H = torch.tanh(X @ W1t.T + b1t)",
               f"loss = {half} * ((H @ W2t.T + b2t - Y) ** 2).sum() / X.shape[0]",
               "loss.backward()",
               "return tuple(p.grad for p in params)")


def _cost(forward, reverse):
    return _fn("jacobian_cost(widths)",
               "d = [int(v) for v in widths]",
               "per_pass = sum(a * b for a, b in zip(d[:-1], d[1:]))",
               f"forward, reverse = {forward}, {reverse}",
               "cheaper = 'forward' if forward < reverse else 'reverse' if reverse < forward else 'either'",
               "return {'forward': forward, 'reverse': reverse, 'cheaper': cheaper}")


WRONG = [
    # --- 1. backward and .grad
    Wrong("mse_float32_tensors", {"mse_weight_grad": _fn(
        "mse_weight_grad(W, x, y)",
        "W = torch.tensor(W, dtype=torch.float32, requires_grad=True)",
        "x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)",
        "((W @ x - y) ** 2).mean().backward()",
        "return W.grad")},
        fails=MSE, says=("float32",), note="float32 tensors: 7 digits, none left near a fit"),
    Wrong("mse_sum_of_squares", {"mse_weight_grad": _fn(
        "mse_weight_grad(W, x, y)",
        "W = torch.tensor(W, requires_grad=True)",
        "((W @ torch.tensor(x) - torch.tensor(y)) ** 2).sum().backward()",
        "return W.grad")},
        fails=MSE, says=("a factor 1/m",)),
    Wrong("mse_gradient_of_x", {"mse_weight_grad": _fn(
        "mse_weight_grad(W, x, y)",
        "x = torch.tensor(x, requires_grad=True)",
        "((torch.tensor(W) @ x - torch.tensor(y)) ** 2).mean().backward()",
        "return x.grad")},
        fails=MSE, says=("expected shape",), note="requires_grad on the wrong tensor"),
    Wrong("mse_grad_of_a_non_leaf", {"mse_weight_grad": _fn(
        "mse_weight_grad(W, x, y)",
        "W = torch.tensor(W, requires_grad=True) * 1.0  # a new tensor: no longer the leaf",
        "((W @ torch.tensor(x) - torch.tensor(y)) ** 2).mean().backward()",
        "return W.grad")},
        fails=MSE, says=("got NoneType",), note=".grad of a non-leaf stays None"),
    # --- 2. accumulation
    Wrong("gd_never_zeroes", {"gd_with_autograd": _gd("pass")},
          fails=GD, says=("w.grad was never zeroed",)),
    Wrong("gd_zero_without_parentheses", {"gd_with_autograd": _gd(
        "if w.grad is not None: w.grad.zero_  # the seed's line: names the method, calls nothing")},
          fails=GD, says=("without its parentheses",)),
    Wrong("gd_rebinds_w", {"gd_with_autograd": _gd(
        "pass", update="w = w - lr * w.grad  # a new non-leaf tensor: its .grad stays None")},
          fails=GD, says=("TypeError",)),
    Wrong("running_chunk_means", {"running_gradients": _running("((Xk @ w - yk) ** 2).mean()")},
          fails=RUN, says=("weight chunk k by n_k / N",)),
    Wrong("running_means_over_chunk_count", {"running_gradients": _running("((Xk @ w - yk) ** 2).mean() / K")},
          fails=["running_gradients.unequal_chunks"], says=("the same size",),
          note="right when every chunk has the same size"),
    Wrong("running_zeroes_between_chunks", {"running_gradients": _running(
        "((Xk @ w - yk) ** 2).sum() / N", before="w.grad = None")},
          fails=RUN, says=("zeroed between chunks",)),
    Wrong("running_snapshots_alias_grad", {"running_gradients": _running(
        "((Xk @ w - yk) ** 2).sum() / N", after="rows.append(w.grad)")},
          fails=RUN, says=("w.grad.clone()",)),
    # --- 3. VJPs and Jacobians
    Wrong("vjp_ignores_the_cotangent", {"vjp": _fn(
        "vjp(f, x, u)",
        "x = x.detach().clone().requires_grad_(True)",
        "f(x).sum().backward()",
        "return x.grad")},
        fails=["vjp.values"], says=("u is ignored",)),
    Wrong("jacobian_rows_accumulate", {"jacobian_from_vjps": _vjp_rows(clear="", store="rows.append(x.grad.clone())")},
          fails=VJP_JAC, says=("not zeroed",)),
    Wrong("jacobian_seed_compute_jac", {"jacobian_from_vjps": _vjp_rows(
        stack="torch.stack(rows).sum(0)", store="rows.append(x.grad.clone())")},
          fails=VJP_JAC, says=("gradient of sum(f(x))",), note="seed 001's compute_jac: the rows summed"),
    Wrong("jacobian_rows_as_columns", {"jacobian_from_vjps": _vjp_rows(stack="torch.stack(rows, dim=1)")},
          fails=VJP_JAC, says=("rows and columns are swapped",)),
    Wrong("jacobian_graph_freed", {"jacobian_from_vjps": _fn(
        "jacobian_from_vjps(f, x)",
        "x = x.detach().clone().requires_grad_(True)",
        "y = f(x)",
        "rows = []",
        "for e in torch.eye(y.shape[0], dtype=y.dtype):",
        "    x.grad = None",
        "    y.backward(e)  # frees the graph: the second row has none to walk",
        "    rows.append(x.grad)",
        "return torch.stack(rows)")},
        fails=VJP_JAC, says=("backward through the graph a second time",)),
    Wrong("jvp_by_a_backward_pass", {"jvp": _fn(
        "jvp(f, x, v)",
        "x = x.detach().clone().requires_grad_(True)",
        "f(x).backward(v)  # a cotangent must have the output's shape, m, not n",
        "return x.grad")},
        fails=["jvp.values"], says=("RuntimeError",)),
    Wrong("jvp_returns_the_primal", {"jvp": _fn(
        "jvp(f, x, v)",
        "with fwAD.dual_level():",
        "    out = f(fwAD.make_dual(x, v))",
        "    return fwAD.unpack_dual(out).primal.clone()")},
        fails=["jvp.values"], says=("primal output",)),
    Wrong("jacobian_jvps_as_rows", {"jacobian_from_jvps": _fn(
        "jacobian_from_jvps(f, x)",
        "eye = torch.eye(x.shape[0], dtype=x.dtype)",
        "return torch.stack([jvp(f, x, e) for e in eye])")},
        fails=JVP_JAC, says=("column j of J",)),
    # --- 4. costs
    Wrong("cost_modes_swapped", {"jacobian_cost": _cost("d[-1] * per_pass", "d[0] * per_pass")},
          fails=["jacobian_cost.values"], says=("swapped",)),
    Wrong("cost_counts_passes", {"jacobian_cost": _cost("d[0]", "d[-1]")},
          fails=["jacobian_cost.values"], says=("numbers of passes",)),
    # --- 5. by hand, and against torch
    Wrong("backward_sigmoid_derivative", {"mlp_backward": _backward(dtanh="H * (1.0 - H)")},
          fails=BACKWARD, says=("sigmoid",)),
    Wrong("backward_without_batch_mean", {"mlp_backward": _backward(scale="1.0")},
          fails=BACKWARD, says=("factor 1/B",)),
    Wrong("backward_bias_not_summed", {"mlp_backward": _backward(db1="dZ")},
          fails=BACKWARD, says=("expected shape",)),
    Wrong("backward_weight_transposed", {"mlp_backward": _backward(dW1="X.T @ dZ")},
          fails=BACKWARD, says=("transpose",)),
    Wrong("autograd_float32", {"mlp_grads_autograd": _autograd(
        make="torch.tensor(p, dtype=torch.float32, requires_grad=True)")},
          fails=AUTOGRAD, says=("float32",)),
    Wrong("autograd_loss_without_half", {"mlp_grads_autograd": _autograd(half="1.0")},
          fails=AUTOGRAD, says=("same factor 2",)),
    # a library Jacobian where the question asks for one built from VJPs: only the audit can see it
    Wrong("jacobian_from_the_library", {"jacobian_from_vjps": _fn(
        "jacobian_from_vjps(f, x)",
        "return torch.autograd.functional.jacobian(f, x)")},
        fails=VJP_JAC, needs_audit=True),
    Wrong("jvp_from_torch_func", {"jvp": _fn(
        "jvp(f, x, v)",
        "return torch.func.jvp(f, (x,), (v,))[1]")},
        fails=["jvp.values"], needs_audit=True),
]

ALTERNATIVES = [
    Alternative("autograd_grad_everywhere", {
        "vjp": _fn("vjp(f, x, u)",
                   "x = x.detach().requires_grad_(True)",
                   "return torch.autograd.grad(f(x), x, grad_outputs=u)[0]"),
        "jacobian_from_vjps": _fn(
            "jacobian_from_vjps(f, x)",
            "x = x.detach().requires_grad_(True)",
            "y = f(x)",
            "eye = torch.eye(y.numel(), dtype=y.dtype)",
            "return torch.stack([torch.autograd.grad(y, x, e, retain_graph=True)[0] for e in eye])"),
        "gd_with_autograd": _fn(
            "gd_with_autograd(w0, X, y, lr, steps)",
            "X, y = torch.from_numpy(X), torch.from_numpy(y)",
            "w = torch.from_numpy(np.array(w0, dtype=np.float64)).requires_grad_()",
            "loss = lambda: ((X @ w - y) ** 2).mean()",
            "losses = []",
            "for _ in range(steps):",
            "    value = loss()",
            "    losses.append(float(value))",
            "    (g,) = torch.autograd.grad(value, w)",
            "    with torch.no_grad():",
            "        w.sub_(lr * g)",
            "losses.append(float(loss()))",
            "return w.detach().numpy(), np.array(losses)"),
    }),
    Alternative("zero_in_place_and_numpy_results", {
        "mse_weight_grad": _fn(
            "mse_weight_grad(W, x, y)",
            "W = torch.from_numpy(np.array(W)).requires_grad_()",
            "r = W @ torch.from_numpy(x) - torch.from_numpy(y)",
            "(r @ r / len(y)).backward()",
            "return W.grad.numpy()"),
        "jacobian_from_vjps": _fn(
            "jacobian_from_vjps(f, x)",
            "x = x.clone().requires_grad_(True)",
            "y = f(x)",
            "J = np.zeros((y.shape[0], x.shape[0]))",
            "for i in range(y.shape[0]):",
            "    y.backward(torch.nn.functional.one_hot(torch.tensor(i), y.shape[0]).double(), retain_graph=True)",
            "    J[i] = x.grad.numpy()",
            "    x.grad.zero_()",
            "return J"),
        "gd_with_autograd": _fn(
            "gd_with_autograd(w0, X, y, lr, steps)",
            "Xt, yt = torch.from_numpy(np.asarray(X, dtype=np.float64)), torch.from_numpy(np.asarray(y, dtype=np.float64))",
            "w = torch.from_numpy(np.array(w0, dtype=np.float64)).requires_grad_(True)",
            "history = []",
            "for step in range(steps + 1):",
            "    w.grad = None",
            "    loss = torch.mean((Xt @ w - yt) ** 2)",
            "    history.append(float(loss))",
            "    if step == steps:",
            "        break",
            "    loss.backward()",
            "    with torch.no_grad():",
            "        w.add_(w.grad, alpha=-lr)",
            "return w.detach().clone(), history"),
        "running_gradients": _fn(
            "running_gradients(w, X, y, chunks)",
            "w = torch.tensor(w, requires_grad=True)",
            "N, out, start = len(y), [], 0",
            "for size in chunks:",
            "    Xk, yk = torch.tensor(X[start:start + size]), torch.tensor(y[start:start + size])",
            "    (size / N * torch.nn.functional.mse_loss(Xk @ w, yk)).backward()",
            "    out.append(w.grad.detach().numpy().copy())",
            "    start += size",
            "return out"),
    }),
    Alternative("jvp_by_double_backward", {
        "jvp": _fn(
            "jvp(f, x, v)",
            "# u -> u^T J is linear in u; differentiating (u^T J) v with respect to u gives J v",
            "x = x.detach().requires_grad_(True)",
            "y = f(x)",
            "u = torch.zeros_like(y, requires_grad=True)",
            "(g,) = torch.autograd.grad(y, x, grad_outputs=u, create_graph=True)",
            "return torch.autograd.grad(g @ v, u)[0]"),
        "jacobian_from_jvps": _fn(
            "jacobian_from_jvps(f, x)",
            "cols = [jvp(f, x, e) for e in torch.eye(len(x), dtype=torch.float64)]",
            "return torch.column_stack(cols)"),
    }),
    Alternative("einsum_backward_and_loop_costs", {
        "mlp_backward": _fn(
            "mlp_backward(X, H, W2, R)",
            "B = len(X)",
            "dH = np.einsum('bm,mh->bh', R, W2) / B",
            "dZ = dH * (1 - H) * (1 + H)",
            "return (np.einsum('bh,bn->hn', dZ, X), dZ.sum(0), np.einsum('bm,bh->mh', R, H) / B,",
            "        R.mean(axis=0))"),
        "jacobian_cost": _fn(
            "jacobian_cost(widths)",
            "pass_cost = 0",
            "for k in range(1, len(widths)):",
            "    pass_cost += widths[k] * widths[k - 1]",
            "f, r = widths[0] * pass_cost, widths[-1] * pass_cost",
            "return {'forward': f, 'reverse': r, 'cheaper': 'either' if f == r else ('forward' if f < r else 'reverse')}"),
        "mlp_grads_autograd": _fn(
            "mlp_grads_autograd(W1, b1, W2, b2, X, Y)",
            "ps = [torch.from_numpy(np.asarray(p, dtype=np.float64)).clone().requires_grad_() for p in (W1, b1, W2, b2)]",
            "Yhat = torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(torch.from_numpy(X), ps[0], ps[1])),"
            " ps[2], ps[3])",
            "loss = torch.nn.functional.mse_loss(Yhat, torch.from_numpy(Y), reduction='sum') / (2 * len(X))",
            "return torch.autograd.grad(loss, ps)"),
    }),
]

ATTACKS = [
    # torch in the kernel is not the grader: its references, case generators and key are not there
    Attack("torch_kernel_looks_for_the_grader", insert=[(None, (
        "try:\n"
        "    from dlgrade_grader.hw import torch_autograd as _grader\n"
        "    from dlgrade_grader.keys import load as _key\n"
        "    def jacobian_from_vjps(f, x):\n"
        "        return _grader.jacobian({'f': f, 'x': x})\n"
        "except Exception as exc:\n"
        "    print('no grader in this kernel:', type(exc).__name__)\n"))]),
]
