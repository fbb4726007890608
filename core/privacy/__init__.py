"""Privacy: who received whose data, and the requests people make about it."""
