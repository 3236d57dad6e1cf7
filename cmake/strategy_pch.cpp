// Translation unit that owns the precompiled SDK header the in-tree strategy plugins reuse.
