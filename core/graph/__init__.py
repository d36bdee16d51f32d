"""The chain rule at the level of single operations: expressions, op graphs, path counts.

- :mod:`.parse`: a typed expression → :class:`~.ops.Graph` (safe: no ``eval``).
- :mod:`.rules`: each op's value and local derivatives side by side.
- :mod:`.ops`: the graph; ``forward``, ``backward``, ``steps``, finite differences.
- :mod:`.gradcheck`: a leaf's finite difference beside its backprop gradient.
- :mod:`.neuron`: the graph of one neuron of a network and its path to the loss.
- :mod:`.paths`: naive chain-rule paths against backprop's multiplications.
- :mod:`.report`: one JSON-ready answer for the page.

See ``docs/graph.md``.
"""

from .errors import EvalError, GraphError, ParseError
from .neuron import hidden_neuron_graph, output_neuron_graph, softmax_neuron_graph
from .ops import Graph
from .parse import parse
from .paths import PathCounts, count_paths
from .report import evaluate_expression, graph_report

__all__ = [
    "EvalError",
    "Graph",
    "GraphError",
    "ParseError",
    "PathCounts",
    "count_paths",
    "evaluate_expression",
    "graph_report",
    "hidden_neuron_graph",
    "output_neuron_graph",
    "parse",
    "softmax_neuron_graph",
]
