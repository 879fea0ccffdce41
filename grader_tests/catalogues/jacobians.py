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
]

ATTACKS = []
