from dlgrade.grader.submissions import Alternative, Wrong

WRONG = [
    Wrong("no_unbroadcast", {"unbroadcast": "def unbroadcast(target, g):\n    return g\n"},
          fails=["unbroadcast.all"]),
]
ALTERNATIVES = [
    Alternative("reduce_to_shape", {"unbroadcast": (
        "import numpy as np\n"
        "def unbroadcast(target, g):\n"
        "    shape = np.shape(target)\n"
        "    lead = np.ndim(g) - len(shape)\n"
        "    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)\n"
        "    return np.sum(g, axis=axes).reshape(shape)\n")}),
]
ATTACKS = []
