"""A user's own photo, made ready for the network: decoded safely, shown, reduced to 32×32.

``decode_upload(data, name)`` accepts PNG, JPEG, WebP and GIF files of any size and colour mode
(16-bit, greyscale, palette, CMYK, with transparency, animated) and refuses everything else
with a one-line :class:`UploadError` that says what happened and what to do. The image size is
checked from the file header before any pixel is decoded, so a small file that would expand to
a huge image (a "decompression bomb") is refused at once.

The network sees what CIFAR-10 images are: the centre square of the photo, resized to 32×32
with an antialiasing bicubic filter. Nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from locales import Phrase

MAX_BYTES = 20 * 1024 * 1024          # 20 MB
MAX_PIXELS = 40_000_000               # 40 megapixels, checked from the header before decoding
DISPLAY_SIZE = 512                    # longest side of the display copy
NETWORK_SIZE = 32
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "gif")  # for st.file_uploader(type=...)
# Pillow's format names; MPO is the multi-picture JPEG many phone cameras write.
FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
ACCEPTED = Phrase("PNG, JPEG, WebP or GIF")
MAX_NAME_LENGTH = 40
KEY_PREFIX = "upload-"
ORIENTATION = 0x0112  # EXIF tag
BOMB = Phrase("This image is far too large once unpacked (over {limit} megapixels); upload a smaller photo.",
              limit=MAX_PIXELS // 1_000_000)


class UploadError(ValueError):
    """An uploaded file that cannot be used; the message is one line for the user."""


@dataclass(frozen=True, eq=False)
class UploadedImage:
    """A decoded upload. ``pixels`` is what the network sees; ``original`` is for display."""

    pixels: np.ndarray            # uint8 32×32×3: centre square, resized
    original: np.ndarray          # uint8 H×W×3, longest side ≤ DISPLAY_SIZE
    name: str                     # file name made safe to show (no path, no markup characters)
    size: tuple[int, int]         # (width, height) of the photo as uploaded (after EXIF rotation)
    sha256: str                   # of the uploaded bytes
    format: str                   # PNG, JPEG, WebP or GIF
    notes: tuple[Phrase, ...] = field(default=())  # what was done to it, e.g. the first GIF frame used

    @property
    def key(self) -> str:
        """Stable id of this upload's content, ``upload-<SHA-256>``: results are cached across
        sessions by it, so it is the full hash and no two photos can share one."""
        return KEY_PREFIX + self.sha256


def safe_name(name: str) -> str:
    """The file name without folders, with only letters, digits, space and ``._-()``, ≤ 40 chars."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    cleaned = re.sub(r"[^\w .()-]", "-", base, flags=re.UNICODE).strip() or "photo"
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and len(ext) <= 5:
            cleaned = stem[:MAX_NAME_LENGTH - len(ext) - 2] + "…." + ext
        else:
            cleaned = cleaned[:MAX_NAME_LENGTH - 1] + "…"
    return cleaned


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _open(data: bytes) -> Image.Image:
    """Read the header only (Image.open is lazy); refuse non-images and oversized images."""
    # Image.open itself warns above Pillow's own limit (89 megapixels) and refuses above twice
    # that; our tighter limit below refuses both, so the warning is not turned into an error
    # (warnings.catch_warnings would change process-wide state under Streamlit's threads).
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise UploadError(BOMB) from None
    except UnidentifiedImageError:
        raise UploadError(Phrase("This file is not an image that can be read; upload a {accepted} photo.",
                                 accepted=ACCEPTED)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # a damaged header
        raise UploadError(Phrase("This image file is damaged and cannot be read ({why}); upload another copy of the "
                                 "photo.", why=_reason(exc))) from None
    if image.format not in FORMATS:
        raise UploadError(Phrase("This is a {kind} image; upload a {accepted} file (save the photo as PNG or JPEG "
                                 "first).", kind=image.format or Phrase("different"), accepted=ACCEPTED))
    width, height = image.size
    if width < 1 or height < 1:
        raise UploadError(Phrase("This image has no pixels ({w}×{h}); upload another photo.", w=width, h=height))
    if width * height > MAX_PIXELS:
        raise UploadError(Phrase("This image is {w:,}×{h:,} pixels ({mp:,.0f} megapixels), more than the {limit} "
                                 "megapixel limit; upload a smaller copy.", w=width, h=height,
                                 mp=width * height / 1e6, limit=MAX_PIXELS // 1_000_000))
    return image


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text if len(text) <= 60 else text[:59] + "…"


def _sixteen_bit_to_8(image: Image.Image) -> Image.Image:
    """16-bit (and 32-bit integer) greyscale to 8-bit by scaling, not clipping: 65535 → 255."""
    values = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8), "L")


def to_rgb(image: Image.Image) -> tuple[Image.Image, bool]:
    """Any Pillow mode → RGB; transparent parts are laid on white. Returns (image, had alpha)."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        image = _sixteen_bit_to_8(image)
    transparent = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if transparent:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), True
    return (image if image.mode == "RGB" else image.convert("RGB")), False


def network_view(image: Image.Image) -> np.ndarray:
    """The centre square of an RGB image, resized to 32×32 (bicubic, antialiased): uint8 32×32×3."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    # Crop first: resize(box=...) would let the filter read pixels outside the square.
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((NETWORK_SIZE, NETWORK_SIZE), Image.Resampling.BICUBIC),
                      dtype=np.uint8).copy()


def display_copy(image: Image.Image, longest: int = DISPLAY_SIZE) -> np.ndarray:
    """The whole image, shrunk (never enlarged) so its longest side is at most ``longest``."""
    copy = image.copy()
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return np.asarray(copy, dtype=np.uint8).copy()


def decode_upload(data: bytes, name: str) -> UploadedImage:
    """Decode an uploaded file into an :class:`UploadedImage`, or raise :class:`UploadError`."""
    size = len(data or b"")
    if size == 0:
        raise UploadError(Phrase("The file is empty (0 bytes); upload a {accepted} photo.", accepted=ACCEPTED))
    if size > MAX_BYTES:
        raise UploadError(Phrase("The file is {size}, more than the {limit} MB limit; upload a smaller copy (e.g. "
                                 "saved as JPEG).", size=_megabytes(size), limit=MAX_BYTES // 1024 // 1024))
    data = bytes(data)
    image = _open(data)
    fmt = FORMATS[image.format]
    notes = []
    # Phone JPEGs (MPO) also hold several frames, but the first is the photo: no note for them.
    if fmt in ("GIF", "WebP", "PNG") and getattr(image, "is_animated", False):
        image.seek(0)
        notes.append(Phrase("animated {format}: the first frame is used", format=fmt))
    width, height = image.size
    try:
        if image.getexif().get(ORIENTATION) in (5, 6, 7, 8):  # turned by a quarter: sides swap
            width, height = height, width
    except Exception:  # noqa: BLE001 - unreadable EXIF: the photo is used as stored
        pass
    if fmt == "JPEG" and image.mode in ("RGB", "L"):
        # Decode large JPEGs at 1/2, 1/4 or 1/8 scale, still ≥ the display size: much faster.
        image.draft(image.mode, (DISPLAY_SIZE, DISPLAY_SIZE))
    try:
        image.load()
    except Image.DecompressionBombError:
        raise UploadError(BOMB) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, IndexError) as exc:
        raise UploadError(Phrase("This image file is damaged or cut off and cannot be read ({why}); upload another "
                                 "copy of the photo.", why=_reason(exc))) from None
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - unreadable EXIF: the photo is used as stored
        pass
    try:
        rgb, had_alpha = to_rgb(image)
    except (OSError, ValueError) as exc:
        raise UploadError(Phrase("The colours of this image cannot be read ({why}); save it as an ordinary RGB PNG "
                                 "or JPEG and upload that.", why=_reason(exc))) from None
    if had_alpha:
        notes.append(Phrase("transparent parts shown on white"))
    return UploadedImage(pixels=network_view(rgb), original=display_copy(rgb),
                         name=safe_name(name), size=(width, height), sha256=hashlib.sha256(data).hexdigest(),
                         format=fmt, notes=tuple(notes))
