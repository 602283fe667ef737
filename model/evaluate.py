"""Evaluate a checkpoint on the CIFAR-10 test split.

    python -m model.evaluate --data ../shared/cifar10 [--checkpoint PATH] --json [--keep-predictions]

With --json, prints exactly one JSON object:
``{"top1": 0..1, "n_images": int, "per_class": {class: 0..1}, "seconds": float}``.
A missing, truncated, foreign or non-checkpoint file exits with status 2 and one line on
stderr; the file is read with ``weights_only=True`` and never runs code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from data.cifar10 import DatasetError, load_split, resolve_root
from model.card import DEFAULT_CHECKPOINT, CheckpointError
from model.inference import predict_logits


def accuracy_report(predictions: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Top-1 and per-class accuracy from predicted and true class indices."""
    correct = predictions == labels
    per_class = {}
    for k, name in enumerate(classes):
        mask = labels == k
        per_class[name] = float(correct[mask].mean()) if mask.any() else float("nan")
    return {"top1": float(correct.mean()) if len(labels) else float("nan"),
            "n_images": int(len(labels)), "per_class": per_class}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="CIFAR-10 root (default: $CIFAR10_ROOT or ../shared/cifar10)")
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N test images")
    p.add_argument("--keep-predictions", action="store_true",
                   help="also keep the logits beside the checkpoint (CHECKPOINT.test_predictions.npz), so a fresh "
                        "install of the dashboard with this test set does not classify it again")
    args = p.parse_args(argv)

    if args.keep_predictions and args.limit > 0:
        print("error: --keep-predictions keeps the whole test set's logits; leave out --limit", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        from model.checkpoint import load_checkpoint

        ckpt = load_checkpoint(args.checkpoint)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        test = load_split(resolve_root(args.data), "test")
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    images, labels = test.images, test.labels
    if args.limit > 0:
        images, labels = images[:args.limit], labels[:args.limit]
    logits = predict_logits(ckpt.model, images, ckpt.meta["mean"], ckpt.meta["std"])
    report = accuracy_report(logits.argmax(1), labels, ckpt.classes)
    if args.keep_predictions:
        from model.inference import keep_predictions

        print(f"kept {keep_predictions(args.checkpoint, ckpt.sha256, images, labels, logits)}", file=sys.stderr)
    report["seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"top-1 {report['top1']:.4f} on {report['n_images']} test images "
              f"({args.checkpoint}, {report['seconds']:.1f}s)")
        for name, acc in report["per_class"].items():
            print(f"  {name:<11} {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
