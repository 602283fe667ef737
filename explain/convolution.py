"""The lecture's convolution, worked by hand: the 6×6 toy image, edge kernels, padding, stride.

Convolution here is cross-correlation, as in ``torch.nn.functional.conv2d``: the kernel is slid
over the (zero-padded) input without flipping, and each output cell is the sum of the element-wise
products of the kernel and the patch under it — a dot product, i.e. a similarity score between the
filter and that patch. Plain numpy (no torch import), checked against conv2d in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from locales import known, translate

TOY_SIZE = 6
MAX_KERNEL = 5
MAX_PADDING = 2
MAX_STRIDE = 3
MAX_PHOTO_SIDE = 4096   # refuse larger uploads on this page

# 3×3 presets; "custom" is the user's own kernel.
PRESETS: dict[str, np.ndarray] = {
    known("vertical edge"): np.array([[-1, 0, 1]] * 3, dtype=np.float64),
    known("horizontal edge"): np.array([[-1] * 3, [0] * 3, [1] * 3], dtype=np.float64),
    known("diagonal edge"): np.array([[-1, -1, 0], [-1, 0, 1], [0, 1, 1]], dtype=np.float64),
    known("blur (box 1/9)"): np.full((3, 3), 1 / 9),
    known("sharpen"): np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
}
CUSTOM = known("custom")
KERNEL_CHOICES = (*PRESETS, CUSTOM)


def toy_image(transpose: bool = False) -> np.ndarray:
    """The lecture's 6×6 image: dark (0) left half, bright (1) right half; transposed, top/bottom."""
    image = np.zeros((TOY_SIZE, TOY_SIZE), dtype=np.float64)
    image[:, TOY_SIZE // 2:] = 1.0
    return image.T.copy() if transpose else image


def default_custom_kernel(size: int) -> np.ndarray:
    """Starting point for a custom kernel: the vertical edge at 3×3, else a centred 1 (identity)."""
    if size == 3:
        return PRESETS["vertical edge"].copy()
    kernel = np.zeros((size, size), dtype=np.float64)
    kernel[size // 2, size // 2] = 1.0
    return kernel


def output_size(n: int, k: int, p: int, s: int) -> int:
    """out = floor((n + 2p − k) / s) + 1; 0 when the kernel is larger than the padded input."""
    if k > n + 2 * p:
        return 0
    return (n + 2 * p - k) // s + 1


def geometry_problem(shape: tuple[int, int], k: int, p: int, s: int, lang: str = "en") -> str | None:
    """A one-line message if the kernel does not fit the padded input, else None."""
    h, w = shape
    if k > min(h, w) + 2 * p:
        return translate("The {k}×{k} kernel is larger than the padded input ({ph}×{pw} = {h}×{w} plus padding {p} "
                         "on each side), so it fits nowhere: make the kernel smaller or the padding larger.", lang,
                         k=k, ph=h + 2 * p, pw=w + 2 * p, h=h, w=w, p=p)
    return None


def _fmt(value: float) -> str:
    """A number as short as it can be written: 3, -1, 0.111, 2.5."""
    value = round(float(value), 3) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{value:g}"


def formula_text(n: int, k: int, p: int, s: int) -> str:
    """The output-size formula with the current numbers filled in."""
    out = output_size(n, k, p, s)
    return (f"out = ⌊(n + 2p − k) / s⌋ + 1 = ⌊({n} + 2·{p} − {k}) / {s}⌋ + 1 = "
            f"⌊{n + 2 * p - k} / {s}⌋ + 1 = {out}")


def uncovered(n: int, k: int, p: int, s: int) -> int:
    """Rows (and columns) of the padded input the last window does not reach (the floor's remainder)."""
    return 0 if k > n + 2 * p else (n + 2 * p - k) % s


def pad(image: np.ndarray, p: int) -> np.ndarray:
    """Zero padding of ``p`` on each side of the two last axes."""
    width = [(0, 0)] * (image.ndim - 2) + [(p, p), (p, p)]
    return np.pad(np.asarray(image, dtype=np.float64), width)


def correlate(image: np.ndarray, kernel: np.ndarray, padding: int = 0, stride: int = 1) -> np.ndarray:
    """Cross-correlation of an H×W image with a k×k kernel (conv2d without bias), zero padding."""
    from numpy.lib.stride_tricks import sliding_window_view

    kernel = np.asarray(kernel, dtype=np.float64)
    if geometry_problem(np.shape(image), kernel.shape[0], padding, stride):
        raise ValueError(geometry_problem(np.shape(image), kernel.shape[0], padding, stride))
    windows = sliding_window_view(pad(image, padding), kernel.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, kernel)


def correlate_channels(image: np.ndarray, kernel: np.ndarray, padding: int = 0,
                       stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The kernel on each channel of an H×W×C image: (C×H'×W' maps, their sum).

    The sum is the output of ONE C-channel filter whose C slices all equal ``kernel``.
    """
    image = np.asarray(image, dtype=np.float64)
    maps = np.stack([correlate(image[..., c], kernel, padding, stride) for c in range(image.shape[-1])])
    return maps, maps.sum(axis=0)


@dataclass(frozen=True)
class Step:
    """One position of the sliding window."""

    row: int                 # output row
    col: int                 # output column
    top: int                 # patch's top-left corner in the padded input
    left: int
    patch: np.ndarray        # k×k input values under the kernel (padded input)
    products: np.ndarray     # kernel × patch, element-wise
    value: float             # their sum = the output cell

    def sum_text(self, kernel: np.ndarray) -> str:
        """"(-1·0) + (0·0) + (1·1) + … = 3", every term written out, kernel weight first."""
        terms = [f"({_fmt(w)}·{_fmt(x)})" for w, x in zip(np.ravel(kernel), np.ravel(self.patch))]
        return " + ".join(terms) + f" = {_fmt(self.value)}"


def step(image: np.ndarray, kernel: np.ndarray, padding: int, stride: int, position: int) -> Step:
    """The window at output cell number ``position`` (0-based, row by row)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    k = kernel.shape[0]
    h, w = np.shape(image)
    out_w = output_size(w, k, padding, stride)
    out_h = output_size(h, k, padding, stride)
    if not 0 <= position < out_h * out_w:
        raise ValueError(f"position {position} outside 0..{out_h * out_w - 1}")
    row, col = divmod(position, out_w)
    top, left = row * stride, col * stride
    patch = pad(image, padding)[top:top + k, left:left + k]
    products = kernel * patch
    return Step(row, col, top, left, patch, products, float(products.sum()))


def partial_output(full: np.ndarray, position: int) -> np.ndarray:
    """``full`` with the cells after ``position`` (row by row) blanked to NaN: the output so far."""
    shown = np.array(full, dtype=np.float64)
    shown.ravel()[position + 1:] = np.nan
    return shown


@dataclass(frozen=True)
class ToyView:
    """The playground's toy example: the 6×6 edge image, one kernel with its padding and stride,
    the whole output, and the window at one position. Its figures and its slide take this."""

    kernel_name: str
    kernel: np.ndarray
    image: np.ndarray    # 6×6, before padding
    padding: int
    stride: int
    output: np.ndarray   # the whole output
    position: int        # the window's position, 1-based, row by row
    step: Step           # the window there

    @property
    def formula(self) -> str:
        return formula_text(self.image.shape[0], self.kernel.shape[0], self.padding, self.stride)


def toy_view(kernel_name: str, kernel: np.ndarray, padding: int, stride: int, position: int,
             transpose: bool = False) -> ToyView:
    """The toy example (``transpose``: the edge horizontal) with the window at ``position`` (1-based)."""
    image = toy_image(transpose)
    full = correlate(image, kernel, padding, stride)
    return ToyView(kernel_name, np.asarray(kernel, dtype=np.float64), image, padding, stride, full, position,
                   step(image, kernel, padding, stride, position - 1))


@dataclass(frozen=True)
class PhotoView:
    """The same kernel on a real image, channel by channel (values for 0–1 pixels)."""

    pixels: np.ndarray   # uint8 H×W×3
    source: str          # what the image is, for titles
    maps: np.ndarray     # 3×H'×W': the kernel on the red, green and blue channels
    summed: np.ndarray   # H'×W': their sum, the output of one 3-channel filter


def photo_view(pixels: np.ndarray, source: str, kernel: np.ndarray, padding: int, stride: int) -> PhotoView:
    maps, summed = correlate_channels(np.asarray(pixels) / 255.0, kernel, padding, stride)
    return PhotoView(np.asarray(pixels, dtype=np.uint8), source, maps, summed)


def photo_pixels(data: bytes, name: str) -> np.ndarray:
    """An uploaded photo as uint8 H×W×3, longest side ≤ 512; raises ``UploadError`` with a message.

    Decoding (size, format and damage checks) is the app-wide ``data.uploads.decode_upload``;
    this page also refuses photos over 4096 pixels on a side.
    """
    from data.uploads import UploadError, decode_upload

    upload = decode_upload(data, name)
    width, height = upload.size
    if max(width, height) > MAX_PHOTO_SIDE:
        raise UploadError(f"This photo is {width:,}×{height:,} pixels, more than {MAX_PHOTO_SIDE}×"
                          f"{MAX_PHOTO_SIDE}; upload a smaller copy.")
    return np.asarray(upload.original[..., :3], dtype=np.uint8)


# The lecture shows the two edge filters on a photo of a house: the vertical one lights up the
# chimney's sides, the horizontal one the roof line. No photo ships with the app (and nothing
# may be downloaded), so this draws one with straight walls, a flat-bottomed roof and a chimney.
HOUSE_SIZE = 192
HOUSE_PARTS = {  # name: (top, bottom, left, right) in pixels of the 192×192 drawing
    "chimney": (30, 70, 124, 140),
    "roof": (60, 88, 36, 156),
    "walls": (88, 160, 48, 144),
    "door": (120, 160, 84, 108),
    "window": (100, 120, 58, 78),
}


def house_drawing() -> np.ndarray:
    """A 192×192×3 uint8 drawing of a house: sky, ground, walls, a roof whose lower edge (the
    eaves) is horizontal, a chimney with vertical sides, a door and a window."""
    size = HOUSE_SIZE
    img = np.empty((size, size, 3), dtype=np.uint8)
    img[:] = (205, 225, 245)                      # sky
    img[160:] = (90, 140, 60)                     # ground
    colours = {"chimney": (110, 50, 40), "walls": (235, 215, 180), "door": (120, 80, 40),
               "window": (120, 170, 220)}
    top, bottom, left, right = HOUSE_PARTS["chimney"]
    img[top:bottom, left:right] = colours["chimney"]
    top, bottom, left, right = HOUSE_PARTS["roof"]
    rows = np.arange(top, bottom)
    # A trapezoid: full width at the eaves, narrowing by one pixel per row upwards.
    for r in rows:
        inset = bottom - 1 - r
        img[r, left + inset:right - inset] = (150, 45, 35)
    for part in ("walls", "door", "window"):
        top, bottom, left, right = HOUSE_PARTS[part]
        img[top:bottom, left:right] = colours[part]
    return img


def shuffle_pixels(image: np.ndarray, seed: int = 0) -> np.ndarray:
    """The image's pixel positions reordered by one fixed permutation (the same for every image
    of that size): to a fully connected layer this is only a reordering of its weights."""
    h, w = image.shape[:2]
    order = np.random.default_rng(seed).permutation(h * w)
    flat = np.asarray(image).reshape(h * w, -1)
    return flat[order].reshape(image.shape)
