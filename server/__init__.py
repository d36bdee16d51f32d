"""bpviz.server."""
