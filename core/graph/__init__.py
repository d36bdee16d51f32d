"""The chain rule at the level of single operations: expressions, op graphs, path counts."""
