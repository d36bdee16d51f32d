"""The NumPy backprop engine: numpy and the stdlib only."""
