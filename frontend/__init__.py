"""bpviz.frontend."""
