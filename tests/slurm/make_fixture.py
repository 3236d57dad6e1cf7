#!/usr/bin/env python3
"""Writes a tiny IDX image task (3 classes of 12x12 images, 240 train, 90 test) into a folder.

Class c brightens its own horizontal band, with deterministic noise, and a quarter of the labels are
wrong (accuracies stay below 1 and differ between seeds): for the Slurm test (run_slurm_test.sh)."""
import struct
import sys
from pathlib import Path

CLASSES, SIZE, TRAIN, TEST = 3, 12, 240, 90


def noise(state: list) -> int:
    state[0] = (state[0] * 1664525 + 1013904223) % 2**32
    return (state[0] >> 24) % 96


def write_split(folder: Path, prefix: str, n: int, state: list) -> None:
    pixels = bytearray()
    labels = bytearray()
    for i in range(n):
        c = i % CLASSES
        draw = noise(state)
        labels.append((c + 1 + draw // 4 % 2) % CLASSES if draw % 4 == 0 else c)
        for r in range(SIZE):
            lit = r // (SIZE // CLASSES) == c
            for _ in range(SIZE):
                pixels.append((140 if lit else 20) + noise(state))
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">4I", 0x803, n, SIZE, SIZE) + pixels)
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">2I", 0x801, n) + labels)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixture.py FOLDER")
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    state = [2024]
    write_split(folder, "train", TRAIN, state)
    write_split(folder, "t10k", TEST, state)


if __name__ == "__main__":
    main()
