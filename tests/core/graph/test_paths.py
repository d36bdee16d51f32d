"""Path counts: the formulas against an explicit naive expansion and an explicit backprop,
both counting their multiplications, on small networks; exact big numbers; limits."""

import itertools
import json
import math

import numpy as np
import pytest

from bpviz.core.graph.errors import GraphError
from bpviz.core.graph.paths import MAX_LAYERS, MAX_WIDTH, count_paths


class Counter:
    def __init__(self) -> None:
        self.mults = 0

    def prod(self, factors: list[float]) -> float:
        self.mults += len(factors) - 1
        return math.prod(factors)


def _network(
    sizes: list[int], seed: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Random weights, and the forward pass of one example: a (per layer) and f'(z)."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(sizes[k], sizes[k - 1])) for k in range(1, len(sizes))]
    a = [rng.normal(size=sizes[0])]
    fp = [np.zeros(0)]
    for W in Ws:
        s = 1 / (1 + np.exp(-(W @ a[-1])))
        a.append(s)
        fp.append(s * (1 - s))
    return Ws, a, fp


def _naive(sizes: list[int], seed: int) -> tuple[list[np.ndarray], int, int]:
    """∂L/∂W summed over every path, L = ½‖a_L − 0‖²; returns grads, terms, mults."""
    Ws, a, fp = _network(sizes, seed)
    L = len(Ws)
    c = Counter()
    terms = 0
    grads = []
    for k in range(1, L + 1):
        G = np.zeros_like(Ws[k - 1])
        for j, i in itertools.product(range(sizes[k]), range(sizes[k - 1])):
            for rest in itertools.product(*[range(n) for n in sizes[k + 1 :]]):
                path = (j, *rest)  # neurons in layers k..L
                factors = [a[L][path[-1]], fp[L][path[-1]]]  # ∂L/∂a_out · f′
                for m in range(L, k, -1):  # down from the output to layer k
                    hi, lo = path[m - k], path[m - k - 1]
                    factors += [Ws[m - 1][hi, lo], fp[m - 1][lo]]
                factors.append(a[k - 1][i])
                G[j, i] += c.prod(factors)
                terms += 1
        grads.append(G)
    return grads, terms, c.mults


def _backprop(sizes: list[int], seed: int) -> tuple[list[np.ndarray], int]:
    """The same gradients by reusing δ, counting every multiplication."""
    Ws, a, fp = _network(sizes, seed)
    L = len(Ws)
    c = Counter()
    delta = [c.prod([a[L][j], fp[L][j]]) for j in range(sizes[L])]
    grads: list[np.ndarray] = [np.zeros(0)] * L
    for k in range(L, 0, -1):
        W = Ws[k - 1]
        grads[k - 1] = np.array(
            [
                [c.prod([delta[j], a[k - 1][i]]) for i in range(sizes[k - 1])]
                for j in range(sizes[k])
            ]
        )
        if k > 1:
            down = [
                sum(c.prod([W[j, i], delta[j]]) for j in range(sizes[k]))
                for i in range(sizes[k - 1])
            ]
            delta = [c.prod([down[i], fp[k - 1][i]]) for i in range(sizes[k - 1])]
    return grads, c.mults


@pytest.mark.parametrize(
    "sizes", [[2, 1], [2, 3, 1], [3, 2, 2, 2], [2, 3, 2, 3, 2], [1, 4, 1, 4, 1]]
)
def test_counts_match_an_explicit_naive_expansion_and_backprop(sizes: list[int]) -> None:
    counts = count_paths(sizes)
    naive_grads, terms, naive_mults = _naive(sizes, seed=len(sizes))
    bp_grads, bp_mults = _backprop(sizes, seed=len(sizes))
    for G, B in zip(naive_grads, bp_grads, strict=True):
        np.testing.assert_allclose(G, B, rtol=1e-12, atol=1e-15)  # the same gradient
    assert counts.naive_terms == terms
    assert counts.naive_mults == naive_mults
    assert counts.backprop_mults == bp_mults
    assert counts.paths == math.prod(sizes)
    assert counts.paths == sizes[0] * sizes[1] * counts.paths_per_weight[0]
    assert counts.paths_per_weight[-1] == 1


def test_small_example_by_hand() -> None:
    c = count_paths([2, 3, 3, 1])
    assert c.paths == 18
    assert c.paths_per_weight == (3, 1, 1)
    assert c.weights == 6 + 9 + 3 and c.params == c.weights + 7
    assert c.naive_terms == 6 * 3 + 9 * 1 + 3 * 1
    assert c.naive_mults == 6 * 3 * 6 + 9 * 1 * 4 + 3 * 1 * 2
    assert c.backprop_mults == (3 + 3 + 1) + (9 + 3) + 18
    assert c.forward_mults == 18 and c.finite_difference_mults == 2 * 25 * 18


def test_naive_grows_exponentially_backprop_linearly_with_depth() -> None:
    naive = [count_paths([8] * d).naive_mults for d in range(3, 12)]
    bp = [count_paths([8] * d).backprop_mults for d in range(3, 12)]
    assert all(b / a > 7 for a, b in itertools.pairwise(naive))
    assert all(b - a == bp[1] - bp[0] for a, b in itertools.pairwise(bp))


def test_big_counts_are_exact_and_json_safe() -> None:
    c = count_paths([64] * 40 + [10])
    assert c.paths == 64**40 * 10
    assert c.paths_log10 == pytest.approx(40 * math.log10(64) + 1)
    d = c.to_dict()
    assert d["paths"] == {"exact": str(64**40 * 10), "log10": pytest.approx(c.paths_log10)}
    assert int(d["naive_mults"]["exact"]) == c.naive_mults
    assert isinstance(d["backprop_mults"], int) and d["backprop_mults"] < 2**53
    json.dumps(d, allow_nan=False)
    widest = count_paths([MAX_WIDTH] * (MAX_LAYERS + 1))
    json.dumps(widest.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    "sizes",
    [[], [3], [2, 0], [2, -1], [2, 1.5], [2, True], [2, MAX_WIDTH + 1], [2] * (MAX_LAYERS + 2)],
)
def test_bad_sizes(sizes: list[int]) -> None:
    with pytest.raises(GraphError) as e:
        count_paths(sizes)
    assert e.value.code == "bad_sizes"
