"""Graph-building features: gc.function, its tracer and compiled programs, and control flow (gc.cond, gc.while_loop)."""
