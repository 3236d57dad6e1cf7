// Translation unit that owns the precompiled LibTorch header the host targets reuse.
