"""Activation maximisation tuned for 32×32 inputs: a synthetic image that excites one channel.

Each image is parametrised in a decorrelated space (Olah et al., "Feature Visualization", 2017):
its Fourier coefficients, scaled by 1/frequency so that the optimiser does not fill the image with
high-frequency noise, and its colours through a fixed colour-decorrelation matrix, squashed into
[0, 1] by a sigmoid. Each step shifts the image by a random jitter of up to JITTER pixels (the
channel must fire wherever the pattern sits), and Adam maximises the mean of the channel's map.

All channels of a layer are optimised together in one batch (image b for channel b), with a
fixed seed, so the result is deterministic; it is computed once per checkpoint and layer and
kept on disk like the other test-set results. Torch and numpy only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explain.testset import _atomic_savez, _try_load

STEPS = 200
LR = 0.5  # large: the 1/f scaling makes every Fourier coefficient's step small
JITTER = 2  # pixels
SEED = 0
SIZE = 32
# The colour-correlation square root used by Lucid for ImageNet; close enough for CIFAR photos.
COLOUR_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)
COLOUR_SQRT = COLOUR_SQRT / np.max(np.linalg.norm(COLOUR_SQRT, axis=0))

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Maximised:
    """The maximising inputs of every channel of one layer."""

    layer: str
    images: np.ndarray       # uint8 C×32×32×3: image c maximises channel c
    activation: np.ndarray   # float32 C: channel c's maximum over positions on image c
    steps: int
    seconds: float           # time the optimisation took (0 when read from the cache)


def _frequencies(size: int = SIZE):
    import torch

    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


def _image(spectrum, scale, colour):
    """N×3×H×W images in [0, 1] from the 1/f-scaled Fourier parameters (N×3×H×(W/2+1)×2)."""
    import torch

    coeffs = torch.view_as_complex(spectrum) * scale
    pixels = torch.fft.irfft2(coeffs, s=(SIZE, SIZE), norm="ortho")
    pixels = torch.einsum("nchw,dc->ndhw", pixels, colour)  # decorrelated → RGB
    return torch.sigmoid(pixels)


def maximise_layer(model, meta: dict, layer: str, steps: int = STEPS, seed: int = SEED,
                   channels: list[int] | None = None, progress: Progress | None = None) -> Maximised:
    """For each channel (all of ``layer``'s, or ``channels``) an input that maximises it."""
    import torch

    from explain.activations import modules_up_to

    chain = modules_up_to(model, layer)
    # The objective is read before a final ReLU: below 0 its gradient would be 0 and a channel that
    # is silent on the grey start image would never move (the reported activation is after it).
    body = chain[:-1] if isinstance(chain[-1], torch.nn.ReLU) else chain
    started = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        probe = torch.zeros(1, 3, SIZE, SIZE)
        for module in chain:
            probe = module(probe)
    picked = list(range(probe.shape[1])) if channels is None else [int(c) for c in channels]
    n = len(picked)
    index = torch.tensor(picked)
    spectrum = (0.01 * torch.randn(n, 3, SIZE, SIZE // 2 + 1, 2, generator=gen)).requires_grad_(True)
    scale = (1.0 / torch.clamp(_frequencies(), min=1.0 / SIZE))[None, None] / SIZE
    colour = torch.from_numpy(COLOUR_SQRT)
    mean = torch.tensor(meta["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(meta["std"], dtype=torch.float32).view(1, 3, 1, 1)
    optimiser = torch.optim.Adam([spectrum], lr=LR)
    was_training = model.training
    model.eval()
    try:
        for step in range(steps):
            optimiser.zero_grad()
            x = _image(spectrum, scale, colour)
            dy, dx = (int(v) for v in torch.randint(-JITTER, JITTER + 1, (2,), generator=gen))
            h = (torch.roll(x, shifts=(dy, dx), dims=(2, 3)) - mean) / std
            for module in body:
                h = module(h)
            chosen = h[torch.arange(n), index]  # n×H×W: image b's map of channel picked[b]
            # Its strongest position (what the test-set ranking measures) plus its mean (so the
            # gradient reaches every position and the pattern fills the image).
            loss = -(chosen.amax(dim=(1, 2)) + chosen.mean(dim=(1, 2))).sum()
            loss.backward()
            optimiser.step()
            if progress is not None and (step + 1) % 16 == 0:
                progress(step + 1, steps)
        with torch.no_grad():
            x = _image(spectrum, scale, colour)
            images = (x * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
            h = (images_to_float(images) - mean) / std
            for module in chain:
                h = module(h)
            activation = h[torch.arange(n), index].amax(dim=(1, 2)).numpy().astype(np.float32)
    finally:
        model.train(was_training)
    return Maximised(layer, images, activation, steps, time.perf_counter() - started)


def images_to_float(images: np.ndarray):
    """uint8 N×H×W×3 → float N×3×H×W in [0, 1] (what the saved picture is)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def cache_path(checkpoint_sha: str, layer: str, cache_dir: Path) -> Path:
    safe = layer.replace(".", "_")
    return Path(cache_dir) / f"maximise-{checkpoint_sha[:16]}-{safe}-s{STEPS}-lr{LR}-seed{SEED}.npz"


def cached_maximised(model, meta: dict, layer: str, checkpoint_sha: str, cache_dir: Path,
                     progress: Progress | None = None) -> Maximised:
    """:func:`maximise_layer` for all of ``layer``'s channels, once per checkpoint and layer."""
    path = cache_path(checkpoint_sha, layer, cache_dir)
    cached = _try_load(path, ("images", "activation", "seconds"))
    if cached is not None:
        return Maximised(layer, cached["images"], cached["activation"], STEPS, float(cached["seconds"]))
    if not hasattr(model, "forward"):
        model = model()
    result = maximise_layer(model, meta, layer, progress=progress)
    try:
        _atomic_savez(path, images=result.images, activation=result.activation,
                      seconds=np.float64(result.seconds))
    except OSError:
        pass
    return result
