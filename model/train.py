"""Train the lecture network on CIFAR-10.

    python -m model.train --data ../shared/cifar10 --epochs 35

Seeded; random crop (padding 4) and horizontal flip; SGD with Nesterov momentum and a
one-cycle learning rate; a progress bar. A validation split is held out of the 50,000 training
images (5,000 by default, drawn with its own fixed seed; size and seed go in the checkpoint's
metadata): it is what is monitored every epoch (loss and accuracy, with the training batches',
in a CSV beside the checkpoint) and what chooses the epoch that is kept. The test set is
evaluated once, at the end, on the chosen epoch. The checkpoint is rewritten after every epoch
with the best epoch so far, so an interrupted run still leaves a usable file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from data.cifar10 import DatasetError, load_split, resolve_root
from model.card import file_sha256, history_path
from model.checkpoint import DEFAULT_CHECKPOINT, save_checkpoint
from model.inference import keep_predictions, predict_logits, to_tensor
from model.network import ARCHITECTURE, CIFAR10_CLASSES, build_model, count_parameters

# Per-channel statistics of the CIFAR-10 training set (../shared/cifar10/README.md).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
# train_*: the epoch's augmented batches in train mode, label-smoothed loss, averaged during the
# epoch; val_*: the held-out validation images in eval mode, plain cross-entropy, after the epoch.
CSV_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")
VALIDATION_IMAGES = 5_000  # of the 50,000 training images
VALIDATION_SEED = 0  # the split's own seed: changing --seed does not move images between the splits


def augment(batch: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip, per image (N×C×H×W)."""
    n, _, h, w = batch.shape
    padded = nn.functional.pad(batch, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    # Gather rows and columns with index arithmetic: one batched op, no per-image loop.
    rows = (dy[:, None] + torch.arange(h)[None, :])  # n×h
    cols = (dx[:, None] + torch.arange(w)[None, :])  # n×w
    flip = torch.rand(n, generator=generator) < 0.5
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    idx_n = torch.arange(n)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_n, rows[:, :, None], cols[:, None, :]]  # n×h×w×C
    return out.permute(0, 3, 1, 2)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, criterion: nn.Module,
               x: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
    """One optimisation step; returns (loss, number correct) for the batch."""
    optimizer.zero_grad(set_to_none=True)
    logits = model(x)
    loss = criterion(logits, y)
    loss.backward()
    optimizer.step()
    return float(loss.detach()), int((logits.detach().argmax(1) == y).sum())


def validation_split(n: int, size: int, seed: int = VALIDATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) positions among ``n`` training images, each sorted: ``size`` positions
    drawn without replacement by ``numpy.random.default_rng(seed).permutation(n)[:size]``."""
    if not 0 < size < n:
        raise ValueError(f"the validation split must hold 1 to {n - 1:,} of the {n:,} training images, "
                         f"not {size:,}; choose --val-size accordingly")
    held_out = np.random.default_rng(seed).permutation(n)[:size]
    keep = np.ones(n, dtype=bool)
    keep[held_out] = False
    return np.flatnonzero(keep), np.sort(held_out)


def evaluate_split(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    return logits_scores(predict_logits(model, images, CIFAR10_MEAN, CIFAR10_STD), labels)


def logits_scores(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Cross-entropy loss and accuracy of ``logits`` (N×classes) against ``labels``."""
    t, y = torch.from_numpy(logits), torch.from_numpy(labels)
    return float(nn.functional.cross_entropy(t, y)), float((t.argmax(1) == y).float().mean())


EPOCHS = 35  # the committed checkpoint's schedule (README, model/checkpoint.pt)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m model.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="CIFAR-10 root (default: $CIFAR10_ROOT or ../shared/cifar10)")
    p.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT, help="checkpoint to write")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    p.add_argument("--val-size", type=int, default=VALIDATION_IMAGES,
                   help="training images held out for validation (monitoring and choosing the epoch)")
    p.add_argument("--val-seed", type=int, default=VALIDATION_SEED, help="seed of the validation split")
    p.add_argument("--download", action="store_true", help="fetch the official archive if missing")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    root = resolve_root(args.data)
    try:
        train = load_split(root, "train", download=args.download)
        test = load_split(root, "test", download=args.download)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    images, labels = train.images, train.labels
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    try:
        kept, held_out = validation_split(len(labels), args.val_size, args.val_seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    train_images, train_labels = images[kept], labels[kept]
    val_images, val_labels = images[held_out], labels[held_out]

    from tqdm import tqdm

    model = build_model().to(memory_format=torch.channels_last)
    print(f"{ARCHITECTURE}: {count_parameters(model):,} parameters; {len(train_labels):,} train / "
          f"{len(val_labels):,} validation (seed {args.val_seed}) / {len(test):,} test images from {root}",
          flush=True)
    x_all = to_tensor(train_images, CIFAR10_MEAN, CIFAR10_STD)
    y_all = torch.from_numpy(train_labels)
    steps_per_epoch = (len(y_all) + args.batch_size - 1) // args.batch_size
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                                weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.25, div_factor=10, final_div_factor=100)
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    gen = torch.Generator().manual_seed(args.seed)

    csv_path = history_path(args.out)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as f:
        csv.writer(f).writerow(CSV_FIELDS)

    meta = {
        "architecture": ARCHITECTURE,
        "classes": list(CIFAR10_CLASSES),
        "mean": list(CIFAR10_MEAN),
        "std": list(CIFAR10_STD),
        "epochs_planned": args.epochs,
        "train_images": len(y_all),
        "validation": {"images": len(val_labels), "seed": args.val_seed,
                       "from": f"the {len(labels):,} training images"},
        "selected_on": "validation accuracy",
        "label_smoothing": args.label_smoothing,
        "seed": args.seed,
        "recipe": (f"SGD nesterov lr={args.lr} one-cycle, wd={args.weight_decay}, "
                   f"label smoothing {args.label_smoothing}, batch {args.batch_size}, "
                   f"crop(pad 4)+flip"),
    }
    started = time.perf_counter()
    best_epoch, best_acc, best_state = 0, -1.0, None
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(len(y_all), generator=gen)
        total_loss, correct, seen = 0.0, 0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}/{args.epochs}", file=sys.stderr,
                   mininterval=5.0, leave=False)
        for step in bar:
            idx = order[step * args.batch_size:(step + 1) * args.batch_size]
            x = augment(x_all[idx], gen).contiguous(memory_format=torch.channels_last)
            loss, ok = train_step(model, optimizer, criterion, x, y_all[idx])
            scheduler.step()
            total_loss += loss * len(idx)
            correct += ok
            seen += len(idx)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
        bar.close()
        val_loss, val_acc = evaluate_split(model, val_images, val_labels)
        row = {
            "epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
            "train_loss": total_loss / seen, "train_acc": correct / seen,
            "val_loss": val_loss, "val_acc": val_acc, "seconds": time.perf_counter() - t0,
        }
        with open(csv_path, "a", newline="") as f:
            csv.DictWriter(f, CSV_FIELDS).writerow(row)
        print(f"epoch {epoch:3d}  train loss {row['train_loss']:.4f} acc {row['train_acc']:.4f}  "
              f"validation loss {val_loss:.4f} acc {val_acc:.4f}  {row['seconds']:.0f}s", flush=True)
        if val_acc > best_acc:  # ties keep the earlier epoch
            best_epoch, best_acc = epoch, val_acc
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        # The best epoch so far, so that an interrupted run leaves a usable (if untested) file.
        save_checkpoint(args.out, _with_state(model, best_state), {
            **meta, "epochs": epoch, "epoch_selected": best_epoch, "val_top1": best_acc,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "training_seconds": round(time.perf_counter() - started, 1)})

    model = _with_state(model, best_state)
    test_logits = predict_logits(model, test.images, CIFAR10_MEAN, CIFAR10_STD)  # once, on the chosen epoch
    test_loss, test_acc = logits_scores(test_logits, test.labels)
    save_checkpoint(args.out, model, {
        **meta, "epochs": args.epochs, "epoch_selected": best_epoch, "val_top1": best_acc,
        "test_top1": test_acc, "test_loss": test_loss,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training_seconds": round(time.perf_counter() - started, 1)})
    print(f"chose epoch {best_epoch} (validation accuracy {best_acc:.4f}); "
          f"test loss {test_loss:.4f} acc {test_acc:.4f}, evaluated once", flush=True)
    # The dashboard's first launch then starts with these instead of classifying the test set again.
    kept = keep_predictions(args.out, file_sha256(args.out), test.images, test.labels, test_logits)
    print(f"saved {args.out}, {kept} and {csv_path}", flush=True)
    return 0


def _with_state(model: nn.Module, state: dict | None) -> nn.Module:
    """A copy of ``model`` holding ``state`` (the chosen epoch's weights), in eval mode."""
    import copy

    chosen = copy.deepcopy(model)
    if state is not None:
        chosen.load_state_dict(state)
    return chosen.eval()


if __name__ == "__main__":
    sys.exit(main())
