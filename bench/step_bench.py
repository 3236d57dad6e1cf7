"""The PyTorch (Python) side of bench/step_bench: the same fine-tuning step as the
harness (convnet backbone, linear head, Adam, cross-entropy, the per-step
measurements) on the same batch size and thread count. Prints the median step time.

usage: /usr/bin/python3 bench/step_bench.py --threads 2 --batch 256 --steps 60 [--plain] [--channels-last]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def convnet(in_channels=1):
    def block(i, o, pool):
        layers = [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
        return layers

    return nn.Sequential(*block(in_channels, 32, True), *block(32, 64, True), *block(64, 128, False),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--plain", action="store_true", help="skip the per-step measurements")
    ap.add_argument("--channels-last", action="store_true", help="convolutions and batches in NHWC")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    backbone = convnet()
    head = nn.Linear(128, 10)
    if args.channels_last:
        backbone = backbone.to(memory_format=torch.channels_last)
    pretrained = [p.detach().clone() for p in backbone.parameters()]
    opt = torch.optim.Adam([{"params": backbone.parameters()}, {"params": head.parameters()}], lr=1e-4)
    images = torch.randn(8192, 1, 28, 28)
    labels = torch.randint(0, 10, (8192,))
    gen = torch.Generator().manual_seed(1)
    order = torch.randperm(8192, generator=gen)
    times = []
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        idx = order[(step * args.batch) % 8192:(step * args.batch) % 8192 + args.batch]
        x, y = images[idx], labels[idx]
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        backbone.train()
        feats = backbone(x)
        feats.retain_grad()
        logits = head(feats)
        loss = F.cross_entropy(logits, y)
        lv = loss.item()
        if not args.plain:
            with torch.no_grad():
                p = torch.softmax(logits.double(), 1)
                zeta = p.pow(2).sum(1).mean().item()
                cross = 2 * p.gather(1, y.view(-1, 1)).mean().item()
                _ = (zeta - 0.1) / (zeta + 1 - cross)
                _ = (logits.argmax(1) == y).double().mean().item()
                _ = feats.double().var(0, unbiased=False).mean().item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if not args.plain:
            n = feats.shape[0]
            _ = n * n * feats.grad.double().pow(2).sum(1).mean().item()
        opt.step()
        if not args.plain:
            with torch.no_grad():
                _ = sum((a.double() - b.double()).pow(2).sum().item()
                        for a, b in zip(backbone.parameters(), pretrained)) ** 0.5
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    print(f"python_median_step_seconds {statistics.median(times):.6f} loss {lv:.4f}")


if __name__ == "__main__":
    main()
