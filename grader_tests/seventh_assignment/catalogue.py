"""Catalogue for the throw-away softplus assignment of the seventh-assignment test."""
from dlgrade_grader.submissions import Alternative, Wrong

WRONG = [
    Wrong("naive_softplus_overflows", {"softplus": (
        "def softplus(x):\n"
        "    return np.log(1 + np.exp(x))\n")},
        fails=["softplus.values"], says=("overflows",)),
    Wrong("naive_sigmoid_is_nan_for_large_x", {"softplus_grad": (
        "def softplus_grad(x):\n"
        "    return np.exp(x) / (1 + np.exp(x))\n")},
        fails=["softplus_grad.values"], says=("NaN",)),
]
ALTERNATIVES = [
    Alternative("logaddexp", {
        "softplus": "def softplus(x):\n    return np.logaddexp(0.0, x)\n",
        "softplus_grad": "def softplus_grad(x):\n    return np.exp(-np.logaddexp(0.0, -x))\n"}),
]
