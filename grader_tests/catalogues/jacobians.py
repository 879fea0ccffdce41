"""Catalogue for the jacobians assignment: classic wrong answers and correct alternatives.

Every wrong answer replaces one solution cell and names exactly the checks it
must lose; every other check must keep its points. Alternatives replace one or
more cells with a different but correct derivation and must keep full marks.
"""
from dlgrade_grader.submissions import Alternative, Wrong


def _fn(header, *body):
    """A solution cell: ``def header:`` followed by the indented body lines."""
    return "def " + header + ":\n" + "".join(f"    {line}\n" for line in body)


MSE_PRED = ("jac_mse_wrt_pred.values",)
BIAS_JAC = ("jac_linear_wrt_bias.values",)
WEIGHT_JAC = ("jac_linear_wrt_weight.values", "jac_linear_wrt_weight.square")
INPUT_JAC = ("jac_linear_wrt_input.values", "jac_linear_wrt_input.square")
CHAIN = ("chain_contract.values", "chain_contract.square")
GRAD_B = ("grad_mse_wrt_bias.values",)
GRAD_W = ("grad_mse_wrt_weight.values", "grad_mse_wrt_weight.square")
SCE = ("softmax_cross_entropy_backward.moderate", "softmax_cross_entropy_backward.extreme")
WX = ("grad_wx_wrt_w.values", "grad_wx_wrt_w.square")
TWO = ("two_layer_linear_grads.values", "two_layer_linear_grads.square")
DEEP = ("deep_linear_grads.values", "deep_linear_grads.square")
AFFINE = ("deep_affine_grads.values",)
AFFINE_X = ("deep_affine_input_jacobian.values",)
DENSE = ("dense_sigmoid_batched_jacobian.values",)
CHAIN_B = ("chain_batched.values",)
SQ_B = ("squared_error_batched_jacobian.values",)
CE_B = ("cross_entropy_batched_jacobian.values",)
REL = ("relative_error.values",)
REL_SHAPES = ("relative_error.shapes",)
NG = ("numerical_gradient.values",)
NG_STEP = ("numerical_gradient.step",)
NG_INT = ("numerical_gradient.integer_x",)

_AFFINE_FORWARD = ("acts = [x]", "for W, b in zip(Ws, bs):", "    acts.append(W @ acts[-1] + b)")

WRONG = [
    # --- part 1: the linear regression (seed 000)
    Wrong("mse_pred_no_mean", {"jac_mse_wrt_pred": _fn(
        "jac_mse_wrt_pred(Y_hat, Y)", "return 2 * (Y_hat - Y)")}, fails=MSE_PRED,
        note="the 1/(m n_o) of the mean is missing"),
    Wrong("mse_pred_over_m", {"jac_mse_wrt_pred": _fn(
        "jac_mse_wrt_pred(Y_hat, Y)", "return 2 * (Y_hat - Y) / Y.shape[0]")}, fails=MSE_PRED,
        note="1/m instead of 1/(m n_o)"),
    Wrong("bias_jac_all_ones", {"jac_linear_wrt_bias": _fn(
        "jac_linear_wrt_bias(X, W, b)", "return np.ones((X.shape[0], W.shape[1], W.shape[1]))")},
        fails=BIAS_JAC, note="every output depends on every bias entry"),
    Wrong("weight_jac_einsum_swapped", {"jac_linear_wrt_weight": _fn(
        "jac_linear_wrt_weight(X, W, b)", 'return np.einsum("ps,qr->pqrs", X, np.eye(W.shape[1]))')},
        fails=WEIGHT_JAC, note="einsum indices swapped: right shape only when n == n_o"),
    Wrong("input_jac_untransposed", {"jac_linear_wrt_input": _fn(
        "jac_linear_wrt_input(X, W, b)", 'return np.einsum("pr,qs->pqrs", np.eye(X.shape[0]), W)')},
        fails=INPUT_JAC, note="w_qs where w_sq belongs"),
    Wrong("chain_wrong_axes", {"chain_contract": _fn(
        "chain_contract(dL_dY, dY_dP)", "return np.tensordot(dY_dP, dL_dY, axes=np.ndim(dL_dY))")},
        fails=CHAIN, note="contracts the Jacobian's trailing (input) axes"),
    Wrong("chain_one_axis", {"chain_contract": _fn(
        "chain_contract(dL_dY, dY_dP)", "return np.tensordot(dL_dY, dY_dP, axes=1)")},
        fails=CHAIN, note="sums over the first axis of Y only"),
    Wrong("grad_bias_over_m", {"grad_mse_wrt_bias": _fn(
        "grad_mse_wrt_bias(X, Y, W, b)", "return 2 * (X @ W + b - Y).mean(axis=0)")},
        fails=GRAD_B, note="1/m instead of 1/(m n_o)"),
    Wrong("grad_weight_float32", {"grad_mse_wrt_weight": _fn(
        "grad_mse_wrt_weight(X, Y, W, b)",
        "X32, Y32 = X.astype(np.float32), Y.astype(np.float32)",
        "residual = X32 @ W.astype(np.float32) + b.astype(np.float32) - Y32",
        "return 2 * X32.T @ residual / Y.size")},
        fails=GRAD_W, note="float32 accumulation loses the small residual near a fit"),
    Wrong("grad_weight_transposed", {"grad_mse_wrt_weight": _fn(
        "grad_mse_wrt_weight(X, Y, W, b)", "return 2 * (X @ W + b - Y).T @ X / Y.size")},
        fails=GRAD_W, note="(Y_hat - Y)^T X: right shape only when n == n_o"),
    # --- part 2: losses (seed 003)
    Wrong("mse_dtarget_sign", {"mse_backward": _fn(
        "mse_backward(pred, target, dout)", "d = 2 * dout * (pred - target)", "return d, d")},
        fails=["mse_backward.values"], note="dtarget with the sign of dpred"),
    Wrong("mae_abs_not_sign", {"mae_backward": _fn(
        "mae_backward(pred, target, dout)", "return dout * np.abs(pred - target), dout * np.abs(target - pred)")},
        fails=["mae_backward.values", "mae_backward.ties"], note="abs where sign belongs"),
    Wrong("mae_ties_plus_minus_one", {"mae_backward": _fn(
        "mae_backward(pred, target, dout)", "d = dout * np.where(pred > target, 1.0, -1.0)", "return d, -d")},
        fails=["mae_backward.ties"], note="-1 instead of the subgradient 0 at pred == target"),
    Wrong("bce_no_denominator", {"bce_backward": _fn(
        "bce_backward(pred, target, dout)", "return dout * (pred - target)")},
        fails=["bce_backward.values"], note="the sigmoid-fused shortcut applied to probabilities"),
    Wrong("bce_flattens_its_inputs", {"bce_backward": _fn(
        "bce_backward(pred, target, dout)",
        "pred, target = np.ravel(pred), np.ravel(target)",
        "return dout * (pred - target) / (pred * (1.0 - pred))")},
        fails=["bce_backward.values"], note="right values for 1-D inputs, but a 2- or 3-axis pred gets a flat dpred"),
    Wrong("ce_sign_flip", {"cross_entropy_backward": _fn(
        "cross_entropy_backward(probs, onehot, dout)", "return dout * onehot / probs")},
        fails=["cross_entropy_backward.values"], note="the minus sign of -sum y log p is lost"),
    Wrong("softmax_ce_naive_overflow", {"softmax_cross_entropy_backward": _fn(
        "softmax_cross_entropy_backward(logits, labels)",
        "e = np.exp(logits)",
        "q = e / e.sum(axis=1, keepdims=True)",
        "q[np.arange(len(labels)), labels] -= 1",
        "return q / len(labels)")},
        fails=["softmax_cross_entropy_backward.extreme"], note="exp(1000) overflows to inf, then NaN"),
    Wrong("softmax_ce_no_mean", {"softmax_cross_entropy_backward": _fn(
        "softmax_cross_entropy_backward(logits, labels)",
        "e = np.exp(logits - logits.max(axis=1, keepdims=True))",
        "q = e / e.sum(axis=1, keepdims=True)",
        "q[np.arange(len(labels)), labels] -= 1",
        "return q")},
        fails=SCE, note="no 1/B for the batch mean"),
    # --- part 3: activations (seed 004)
    Wrong("sigmoid_dense", {"sigmoid_jacobian": _fn(
        "sigmoid_jacobian(H)",
        "s = 1 / (1 + np.exp(-H))",
        "return np.repeat((s * (1 - s))[:, None, :], H.shape[1], axis=1)")},
        fails=["sigmoid_jacobian.values"], note="s(1 - s) in every column: no diagonal"),
    Wrong("softmax_jac_diag_only", {"softmax_jacobian": _fn(
        "softmax_jacobian(V)",
        "e = np.exp(V - V.max(axis=1, keepdims=True))",
        "q = e / e.sum(axis=1, keepdims=True)",
        'return np.einsum("bi,ij->bij", q, np.eye(V.shape[1]))')},
        fails=["softmax_jacobian.values"], note="diag(q) without - q q^T"),
    Wrong("softmax_jac_min_shift", {"softmax_jacobian": _fn(
        "softmax_jacobian(V)",
        "e = np.exp(V - V.min(axis=1, keepdims=True))",
        "q = e / e.sum(axis=1, keepdims=True)",
        'return np.einsum("bi,ij->bij", q, np.eye(V.shape[1])) - np.einsum("bi,bj->bij", q, q)')},
        fails=["softmax_jacobian.values"], note="shifted by the row minimum: exp overflows when a row spans +-1e3"),
    Wrong("softmax_jac_unshifted", {"softmax_jacobian": _fn(
        "softmax_jacobian(V)",
        "e = np.exp(V)",
        "q = e / e.sum(axis=1, keepdims=True)",
        'return np.einsum("bi,ij->bij", q, np.eye(V.shape[1])) - np.einsum("bi,bj->bij", q, q)')},
        fails=["softmax_jacobian.values"], note="no shift: exp(1e3) = inf and exp(-1e3) = 0 give NaN"),
    Wrong("softmax_ce_min_shift", {"softmax_cross_entropy_backward": _fn(
        "softmax_cross_entropy_backward(logits, labels)",
        "e = np.exp(logits - logits.min(axis=1, keepdims=True))",
        "q = e / e.sum(axis=1, keepdims=True)",
        "q[np.arange(len(labels)), labels] -= 1",
        "return q / len(labels)")},
        fails=["softmax_cross_entropy_backward.extreme"], note="shifted by the row minimum instead of the maximum"),
    # --- part 4: matrix-vector models (seeds 001, 004)
    Wrong("wx_rows_summed", {"grad_wx_wrt_w": _fn(
        "grad_wx_wrt_w(W, x)", "return np.outer(np.ones(W.shape[0]), x)")},
        fails=WX, note="seed 001's 1 x^T: the gradient of 1^T W x, not the Jacobian"),
    Wrong("wx_axes_mixed", {"grad_wx_wrt_w": _fn(
        "grad_wx_wrt_w(W, x)", 'return np.einsum("ij,k->ikj", np.eye(W.shape[0]), x)')},
        fails=WX, note="delta_il x_k: right shape only when W is square"),
    Wrong("mse_w_no_two", {"grad_mse_wrt_w": _fn(
        "grad_mse_wrt_w(W, x, y)", "return np.outer(W @ x - y, x) / len(y)")},
        fails=["grad_mse_wrt_w.values"], note="the factor 2 is missing"),
    Wrong("two_layer_w2_not_transposed", {"two_layer_linear_grads": _fn(
        "two_layer_linear_grads(W1, W2, x, y)",
        "h = W1 @ x",
        "g = 2 / len(y) * (W2 @ h - y)",
        "return np.outer(W2 @ g, x), np.outer(g, h)")},
        fails=TWO, note="W2 where W2^T belongs"),
    Wrong("deep_reversed_order", {"deep_linear_grads": _fn(
        "deep_linear_grads(Ws, x, y)",
        "acts = [x]",
        "for W in Ws:",
        "    acts.append(W @ acts[-1])",
        "g = acts[-1] - y",
        "grads = []",
        "for i in range(len(Ws)):",
        "    grads.append(np.outer(g, acts[i]))",
        "    g = Ws[i].T @ g",
        "return grads")},
        fails=DEEP, note="the backward loop walks the layers front to back"),
    Wrong("deep_affine_biases_left_out", {"deep_affine_grads": _fn(
        "deep_affine_grads(Ws, bs, x, y)",
        "acts = [x]",
        "for W in Ws:",
        "    acts.append(W @ acts[-1])",
        "g = acts[-1] - y",
        "dWs, dbs = [], []",
        "for i in reversed(range(len(Ws))):",
        "    dWs.insert(0, np.outer(g, acts[i]))",
        "    dbs.insert(0, g)",
        "    g = Ws[i].T @ g",
        "return dWs, dbs")},
        fails=AFFINE, says=("leaves the biases out",), note="deep_linear_grads' forward pass reused: no b_i"),
    Wrong("deep_affine_bias_from_layer_below", {"deep_affine_grads": _fn(
        "deep_affine_grads(Ws, bs, x, y)", *_AFFINE_FORWARD,
        "g = acts[-1] - y",
        "dWs, dbs = [None] * len(Ws), [None] * len(Ws)",
        "for i in reversed(range(len(Ws))):",
        "    dWs[i] = np.outer(g, acts[i])",
        "    g = Ws[i].T @ g",
        "    dbs[i] = g",
        "return dWs, dbs")},
        fails=AFFINE, says=("db_i is the error at the output of layer i",),
        note="db_i read after the error has moved one layer down"),
    Wrong("deep_affine_jacobian_reversed", {"deep_affine_input_jacobian": _fn(
        "deep_affine_input_jacobian(Ws, bs, x)",
        "J = Ws[0]",
        "for W in Ws[1:]:",
        "    J = J @ W",
        "return J")},
        fails=AFFINE_X, says=("wrong order",), note="W_1 W_2 ... W_L: only equal widths let it run"),
    # --- part 5: batched Jacobians and per-sample losses (seed 004)
    Wrong("dense_jacobian_untransposed", {"dense_sigmoid_batched_jacobian": _fn(
        "dense_sigmoid_batched_jacobian(X, W, b)",
        "s = 1 / (1 + np.exp(-(X @ W + b)))",
        'return np.einsum("bq,qs->bqs", s * (1 - s), W)')},
        fails=DENSE, says=("W used where its transpose belongs",), note="w_qs where w_sq belongs"),
    Wrong("dense_jacobian_no_sigmoid_derivative", {"dense_sigmoid_batched_jacobian": _fn(
        "dense_sigmoid_batched_jacobian(X, W, b)",
        "return np.broadcast_to(W.T, (X.shape[0],) + W.T.shape).copy()")},
        fails=DENSE, says=("derivative is missing",), note="the linear part only"),
    Wrong("chain_batched_seed_diagonal", {"chain_batched": _fn(
        "chain_batched(J_outer, J_inner)",
        'return np.einsum("bij,bjjk->bjk", J_outer, J_inner)')},
        fails=CHAIN_B, says=("bjjk",), note="seed 004's contraction"),
    Wrong("chain_batched_crossed_samples", {"chain_batched": _fn(
        "chain_batched(J_outer, J_inner)",
        "return np.tensordot(J_outer, J_inner, axes=([2], [1]))")},
        fails=CHAIN_B, says=("every sample was combined with every other sample",),
        note="tensordot over the middle index pairs every sample with every other"),
    Wrong("squared_error_jacobian_ones_outer", {"squared_error_batched_jacobian": _fn(
        "squared_error_batched_jacobian(Y, Y_hat)",
        'return -np.einsum("i,bj->bij", np.ones(Y.shape[1]), Y - Y_hat)')},
        fails=SQ_B, says=("np.ones(D)",), note="seed 004's (B, D, D)"),
    Wrong("squared_error_jacobian_no_size_one_axis", {"squared_error_batched_jacobian": _fn(
        "squared_error_batched_jacobian(Y, Y_hat)", "return Y_hat - Y")},
        fails=SQ_B, says=("an axis of size 1 was summed away",), note="(B, D): the per-sample output axis dropped"),
    Wrong("cross_entropy_jacobian_seed", {"cross_entropy_batched_jacobian": _fn(
        "cross_entropy_batched_jacobian(P, P_hat)",
        'return np.einsum("i,bj->bij", np.ones(P.shape[1]), P / P_hat)')},
        fails=CE_B, says=("np.ones(N)",), note="seed 004's einsum: (B, N, N) and no minus sign"),
    Wrong("cross_entropy_jacobian_sign", {"cross_entropy_batched_jacobian": _fn(
        "cross_entropy_batched_jacobian(P, P_hat)", "return (P / P_hat)[:, None, :]")},
        fails=CE_B, says=("sign flipped",), note="the minus sign of the loss lost"),
    # --- part 6: the gradient check
    Wrong("relative_error_no_floor", {"relative_error": _fn(
        "relative_error(a, b, floor=1e-8)",
        "if np.shape(a) != np.shape(b):",
        "    raise ValueError('shapes differ')",
        "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)",
        "return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))))")},
        fails=REL, says=("no floor",), note="0/0 = NaN where both entries are 0"),
    Wrong("relative_error_broadcasts", {"relative_error": _fn(
        "relative_error(a, b, floor=1e-8)",
        "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)",
        "return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))")},
        fails=REL_SHAPES, says=("Raise ValueError",), note="(n,) against (n, 1) silently broadcast"),
    Wrong("relative_error_mean", {"relative_error": _fn(
        "relative_error(a, b, floor=1e-8)",
        "if np.shape(a) != np.shape(b):",
        "    raise ValueError('shapes differ')",
        "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)",
        "return float(np.mean(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))")},
        fails=REL, says=("the mean over the entries",), note="the mean hides one bad entry"),
    Wrong("numerical_gradient_forward", {"numerical_gradient": _fn(
        "numerical_gradient(f, x, h=1e-5)",
        "x = np.array(x, dtype=float)",
        "g = np.empty(x.shape)",
        "for j in np.ndindex(*x.shape):",
        "    e = np.zeros_like(x)",
        "    e[j] = h",
        "    g[j] = (f(x + e) - f(x)) / h",
        "return g")},
        fails=NG + NG_STEP + NG_INT, says=("forward difference",), note="error of order h"),
    Wrong("numerical_gradient_ignores_h", {"numerical_gradient": _fn(
        "numerical_gradient(f, x, h=1e-5)",
        "x = np.array(x, dtype=float)",
        "g = np.empty(x.shape)",
        "for j in np.ndindex(*x.shape):",
        "    e = np.zeros_like(x)",
        "    e[j] = 1e-5",
        "    g[j] = (f(x + e) - f(x - e)) / 2e-5",
        "return g")},
        fails=NG_STEP, says=("was not used",), note="a fixed step whatever h is passed"),
    Wrong("numerical_gradient_integer_steps", {"numerical_gradient": _fn(
        "numerical_gradient(f, x, h=1e-5)",
        "x = np.array(x)",
        "g = np.empty(x.shape)",
        "for j in np.ndindex(*x.shape):",
        "    e = np.zeros_like(x)",
        "    e[j] = h",
        "    g[j] = (f(x + e) - f(x - e)) / (2 * h)",
        "return g")},
        fails=NG_INT, says=("integer array",), note="zeros_like of an integer x truncates h to 0"),
    Wrong("numerical_gradient_not_restored", {"numerical_gradient": _fn(
        "numerical_gradient(f, x, h=1e-5)",
        "x = np.asarray(x, dtype=float)",
        "g = np.empty(x.shape)",
        "for j in np.ndindex(*x.shape):",
        "    old = x[j]",
        "    x[j] = old + h",
        "    up = f(x)",
        "    x[j] = old - h",
        "    g[j] = (up - f(x)) / (2 * h)",
        "return g")},
        fails=NG + NG_STEP, says=("changed the array x it was given",), note="CS231n's in-place loop without the restoring line"),
    # --- autodiff in a solution cell: not installed in the graded kernel, so the function raises
    # (and the audit, when on, also names the shortcut)
    Wrong("uses_autograd_jacobian", {"jac_linear_wrt_weight": (
        "from autograd import jacobian\n"
        "import autograd.numpy as anp\n"
        + _fn("jac_linear_wrt_weight(X, W, b)", "return jacobian(lambda V: anp.dot(X, V) + b)(W)"))},
        fails=WEIGHT_JAC, note="correct values at home, but autograd is not in the graded kernel"),
    Wrong("uses_torch_autograd", {"softmax_cross_entropy_backward": (
        "import torch\n"
        + _fn("softmax_cross_entropy_backward(logits, labels)",
              "v = torch.tensor(logits, dtype=torch.float64, requires_grad=True)",
              "torch.nn.functional.cross_entropy(v, torch.as_tensor(labels)).backward()",
              "return v.grad.numpy()"))},
        fails=SCE, note="torch.autograd inside a solution cell: torch is not in the graded kernel"),
]

ALTERNATIVES = [
    Alternative("loops_instead_of_einsum", {
        "jac_linear_wrt_weight": _fn(
            "jac_linear_wrt_weight(X, W, b)",
            "m, n = X.shape",
            "n_o = W.shape[1]",
            "J = np.zeros((m, n_o, n, n_o))",
            "for p in range(m):",
            "    for q in range(n_o):",
            "        for r in range(n):",
            "            J[p, q, r, q] = X[p, r]",
            "return J"),
        "jac_linear_wrt_input": _fn(
            "jac_linear_wrt_input(X, W, b)",
            "m, n = X.shape",
            "n_o = W.shape[1]",
            "J = np.zeros((m, n_o, m, n))",
            "for p in range(m):",
            "    for q in range(n_o):",
            "        J[p, q, p, :] = W[:, q]",
            "return J"),
        "chain_contract": _fn(
            "chain_contract(dL_dY, dY_dP)",
            "G = np.asarray(dL_dY, dtype=float)",
            "J = np.asarray(dY_dP, dtype=float)",
            "p_shape = J.shape[G.ndim:]",
            "flat = J.reshape(G.size, -1)",
            "out = np.zeros(flat.shape[1])",
            "for i, g in enumerate(G.ravel()):",
            "    out += g * flat[i]",
            "return out.reshape(p_shape)"),
    }),
    Alternative("kron_jacobians", {
        "jac_linear_wrt_weight": _fn(
            "jac_linear_wrt_weight(X, W, b)",
            "m, n = X.shape",
            "n_o = W.shape[1]",
            "# kron(X, I)[p*n_o + q, r*n_o + s] = x_pr delta_qs",
            "return np.kron(X, np.eye(n_o)).reshape(m, n_o, n, n_o)"),
        "jac_linear_wrt_bias": _fn(
            "jac_linear_wrt_bias(X, W, b)",
            "n_o = W.shape[1]",
            "return np.kron(np.ones((X.shape[0], 1)), np.eye(n_o)).reshape(X.shape[0], n_o, n_o)"),
        "grad_wx_wrt_w": _fn(
            "grad_wx_wrt_w(W, x)",
            "m, n = W.shape",
            "# kron(I, x^T)[i, k*n + l] = delta_ik x_l",
            "return np.kron(np.eye(m), x[None, :]).reshape(m, m, n)"),
    }),
    Alternative("diag_embedding", {
        "sigmoid_jacobian": _fn(
            "sigmoid_jacobian(H)",
            "s = 1 / (1 + np.exp(-H))",
            "B, D = H.shape",
            "J = np.zeros((B, D, D))",
            "idx = np.arange(D)",
            "J[:, idx, idx] = s * (1 - s)",
            "return J"),
        "softmax_jacobian": _fn(
            "softmax_jacobian(V)",
            "e = np.exp(V - V.max(axis=1, keepdims=True))",
            "q = e / e.sum(axis=1, keepdims=True)",
            "# broadcasting q over an identity is the diag_embed of torch",
            "diag = q[:, :, None] * np.eye(V.shape[1])[None]",
            "return diag - q[:, :, None] * q[:, None, :]"),
    }),
    Alternative("logaddexp_reduce", {
        "softmax_cross_entropy_backward": _fn(
            "softmax_cross_entropy_backward(logits, labels)",
            "lse = np.logaddexp.reduce(logits, axis=1, keepdims=True)",
            "q = np.exp(logits - lse)",
            "onehot = np.eye(logits.shape[1])[labels]",
            "return (q - onehot) / logits.shape[0]"),
    }),
    Alternative("per_sample_loops", {
        "softmax_jacobian": _fn(
            "softmax_jacobian(V)",
            "out = []",
            "for v in V:",
            "    e = np.exp(v - v.max())",
            "    q = e / e.sum()",
            "    out.append(np.diag(q) - np.outer(q, q))",
            "return np.stack(out)"),
        "sigmoid_jacobian": _fn(
            "sigmoid_jacobian(H)",
            "blocks = []",
            "for h in H:",
            "    s = 1 / (1 + np.exp(-h))",
            "    blocks.append(np.diag(s * (1 - s)))",
            "return np.array(blocks)"),
    }),
    Alternative("explicit_jacobian_chain", {
        "grad_mse_wrt_bias": _fn(
            "grad_mse_wrt_bias(X, Y, W, b)",
            "m, n_o = Y.shape",
            "dL_dY = 2 * (X @ W + b - Y) / Y.size",
            "dY_db = np.broadcast_to(np.eye(n_o), (m, n_o, n_o))",
            'return np.einsum("pq,pqr->r", dL_dY, dY_db)'),
        "grad_mse_wrt_weight": _fn(
            "grad_mse_wrt_weight(X, Y, W, b)",
            "n_o = Y.shape[1]",
            "dL_dY = 2 * (X @ W + b - Y) / Y.size",
            'dY_dW = np.einsum("pr,qs->pqrs", X, np.eye(n_o))',
            'return np.einsum("pq,pqrs->rs", dL_dY, dY_dW)'),
        "grad_mse_wrt_w": _fn(
            "grad_mse_wrt_w(W, x, y)",
            "m = W.shape[0]",
            'J = np.einsum("ik,l->ikl", np.eye(m), x)',
            "return np.tensordot(2 * (W @ x - y) / m, J, axes=1)"),
    }),
    Alternative("products_of_matrices", {
        "deep_linear_grads": _fn(
            "deep_linear_grads(Ws, x, y)",
            "L = len(Ws)",
            "def prod(mats, size):",
            "    P = np.eye(size)",
            "    for M in mats:",
            "        P = M @ P",
            "    return P",
            "y_hat = prod(Ws, len(x)) @ x",
            "grads = []",
            "for i in range(L):",
            "    before = prod(Ws[:i], len(x)) @ x",
            "    after = prod(Ws[i + 1:], Ws[i].shape[0])",
            "    grads.append(np.outer(after.T @ (y_hat - y), before))",
            "return grads"),
        "two_layer_linear_grads": _fn(
            "two_layer_linear_grads(W1, W2, x, y)",
            "r = W2 @ W1 @ x - y",
            "k = len(y)",
            'dW2 = 2 / k * np.einsum("i,j->ij", r, W1 @ x)',
            'dW1 = 2 / k * np.einsum("ai,a,j->ij", W2, r, x)',
            "return (dW1, dW2)"),
        "mae_backward": _fn(
            "mae_backward(pred, target, dout)",
            "diff = pred - target",
            "d = dout * np.where(diff > 0, 1.0, np.where(diff < 0, -1.0, 0.0))",
            "return d, -d"),
    }),
    Alternative("batched_by_loops_and_reshapes", {
        "dense_sigmoid_batched_jacobian": _fn(
            "dense_sigmoid_batched_jacobian(X, W, b)",
            "blocks = []",
            "for x in X:",
            "    s = 1 / (1 + np.exp(-(x @ W + b)))",
            "    blocks.append(np.diag(s * (1 - s)) @ W.T)",
            "return np.stack(blocks)"),
        "chain_batched": _fn(
            "chain_batched(J_outer, J_inner)",
            "B, m = J_inner.shape[:2]",
            "P = J_inner.shape[2:]",
            "flat = J_inner.reshape(B, m, -1)",
            "return (J_outer @ flat).reshape((B, J_outer.shape[1]) + P)"),
        "squared_error_batched_jacobian": _fn(
            "squared_error_batched_jacobian(Y, Y_hat)",
            "return np.expand_dims(Y_hat - Y, axis=1)"),
        "cross_entropy_batched_jacobian": _fn(
            "cross_entropy_batched_jacobian(P, P_hat)",
            "B, N = P.shape",
            "return -(P / P_hat).reshape(B, 1, N)"),
    }),
    Alternative("affine_by_products_and_in_place_gradient_check", {
        "deep_affine_grads": _fn(
            "deep_affine_grads(Ws, bs, x, y)",
            "def forward(upto):",
            "    a = x",
            "    for W, b in zip(Ws[:upto], bs[:upto]):",
            "        a = W @ a + b",
            "    return a",
            "def after(i):",
            "    # the linear map from a_i to y_hat: the product of the later weights",
            "    P = np.eye(len(bs[i]))",
            "    for W in Ws[i + 1:]:",
            "        P = W @ P",
            "    return P",
            "r = forward(len(Ws)) - y",
            "dbs = [after(i).T @ r for i in range(len(Ws))]",
            "dWs = [np.outer(dbs[i], forward(i)) for i in range(len(Ws))]",
            "return dWs, dbs"),
        "deep_affine_input_jacobian": _fn(
            "deep_affine_input_jacobian(Ws, bs, x)",
            "from functools import reduce",
            "return reduce(lambda J, W: W @ J, Ws[1:], Ws[0])"),
        "relative_error": _fn(
            "relative_error(a, b, floor=1e-8)",
            "a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)",
            "if a.shape != b.shape:",
            "    raise ValueError('a and b must have the same shape')",
            "worst = 0.0",
            "for u, v in zip(a.ravel(), b.ravel()):",
            "    worst = max(worst, abs(u - v) / max(abs(u), abs(v), floor))",
            "return worst"),
        "numerical_gradient": _fn(
            "numerical_gradient(f, x, h=1e-5)",
            "x = np.array(x, dtype=np.float64)",
            "grad = np.zeros_like(x)",
            "it = np.nditer(x, flags=['multi_index'])",
            "while not it.finished:",
            "    ix = it.multi_index",
            "    old = x[ix]",
            "    x[ix] = old + h",
            "    up = f(x)",
            "    x[ix] = old - h",
            "    down = f(x)",
            "    x[ix] = old",
            "    grad[ix] = (up - down) / (2 * h)",
            "    it.iternext()",
            "return grad"),
    }),
]

ATTACKS = []
