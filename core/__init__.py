"""bpviz.core."""
