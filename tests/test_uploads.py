"""data.uploads: every accepted kind of file gives the expected 32×32 pixels; every bad file a clear message.

Each file is built in memory with Pillow, so the expected pixels are known exactly.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from data.uploads import MAX_BYTES, MAX_PIXELS, UploadedImage, UploadError, decode_upload, safe_name

RED, BLUE, GREEN = (200, 30, 40), (20, 40, 220), (30, 180, 60)


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def solid(colour, size=(50, 40), mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def assert_all(pixels: np.ndarray, colour, tol: int = 0) -> None:
    diff = np.abs(pixels.astype(int) - np.array(colour, dtype=int))
    assert diff.max() <= tol, f"max difference {diff.max()} from {colour}"


# --- What comes out ----------------------------------------------------------------------------


def test_solid_png_of_any_size_maps_to_its_colour():
    data = encode(solid(RED, (1000, 300)), "PNG")
    up = decode_upload(data, "wall.png")
    assert isinstance(up, UploadedImage)
    assert up.pixels.shape == (32, 32, 3) and up.pixels.dtype == np.uint8
    assert_all(up.pixels, RED)
    # The display copy keeps the aspect ratio, longest side 512.
    assert up.original.shape == (154, 512, 3) and up.original.dtype == np.uint8
    assert_all(up.original, RED)
    assert up.size == (1000, 300)
    assert up.format == "PNG" and up.name == "wall.png" and up.notes == ()
    assert up.sha256 == hashlib.sha256(data).hexdigest()
    assert up.key == "upload-" + up.sha256


def test_small_images_are_not_enlarged_for_display_but_are_for_the_network():
    up = decode_upload(encode(solid(BLUE, (10, 6)), "PNG"), "tiny.png")
    assert up.original.shape == (6, 10, 3)
    assert up.pixels.shape == (32, 32, 3)
    assert_all(up.pixels, BLUE)


def test_wide_image_is_centre_cropped_to_a_square():
    # 64×32: columns 0-15 green, 16-31 red, 32-47 blue, 48-63 green. The centre square is
    # columns 16-47: red left half, blue right half, no green at all.
    px = np.zeros((32, 64, 3), np.uint8)
    px[:, :16], px[:, 16:32], px[:, 32:48], px[:, 48:] = GREEN, RED, BLUE, GREEN
    up = decode_upload(encode(Image.fromarray(px), "PNG"), "wide.png")
    assert_all(up.pixels[:, :16], RED)
    assert_all(up.pixels[:, 16:], BLUE)


def test_tall_image_is_centre_cropped_to_a_square():
    px = np.zeros((128, 64, 3), np.uint8)
    px[:32], px[32:64], px[64:96], px[96:] = GREEN, RED, BLUE, GREEN
    up = decode_upload(encode(Image.fromarray(px), "PNG"), "tall.png")
    # 64×64 centre square resized to 32×32: top half red, bottom half blue. Bicubic at half size
    # reads 4 input rows either side, so output rows 14-17 blend; nothing outside the square leaks in.
    assert_all(up.pixels[:14], RED)
    assert_all(up.pixels[18:], BLUE)
    assert not (np.abs(up.pixels.astype(int) - GREEN).max(axis=2) < 10).any()


def test_downscaling_is_antialiased_not_nearest():
    # A 1-pixel checkerboard averages to grey; nearest-neighbour would give black and white.
    board = (np.indices((320, 320)).sum(0) % 2 * 255).astype(np.uint8)
    up = decode_upload(encode(Image.fromarray(board, "L"), "PNG"), "board.png")
    assert_all(up.pixels, (128, 128, 128), tol=2)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped():
    values = np.full((40, 40), 32896, np.uint16)  # 32896 / 257 = 128
    image = Image.fromarray(values)
    assert image.mode.startswith("I;16")
    up = decode_upload(encode(image, "PNG"), "deep.png")
    assert_all(up.pixels, (128, 128, 128))


def test_sixteen_bit_white_is_white():
    up = decode_upload(encode(Image.fromarray(np.full((8, 8), 65535, np.uint16)), "PNG"), "w.png")
    assert_all(up.pixels, (255, 255, 255))


def test_sixteen_bit_rgb_png():
    # Written by hand: Pillow cannot save 16-bit RGB. 0xC8C8 is 200 in 8 bits.
    row = b"\0" + struct.pack(">HHH", 0xC8C8, 0x1E1E, 0x2828) * 4
    ihdr = struct.pack(">IIBBBBB", 4, 4, 16, 2, 0, 0, 0)  # 16 bits, colour type 2 = RGB
    data = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(row * 4))
            + png_chunk(b"IEND", b""))
    assert_all(decode_upload(data, "deep.png").pixels, RED)


def test_greyscale_and_rgb_with_a_transparent_colour():
    grey = Image.new("L", (40, 40), 10)
    grey.paste(200, (20, 0, 40, 40))
    up = decode_upload(encode(grey, "PNG", transparency=10), "l.png")  # grey level 10 is transparent
    assert_all(up.pixels[:, :15], (255, 255, 255))
    assert_all(up.pixels[:, 17:], (200, 200, 200))
    up = decode_upload(encode(solid((1, 2, 3)), "PNG", transparency=(1, 2, 3)), "rgb.png")
    assert_all(up.pixels, (255, 255, 255))


def test_greyscale_l_becomes_three_equal_channels():
    up = decode_upload(encode(solid(77, mode="L"), "PNG"), "grey.png")
    assert_all(up.pixels, (77, 77, 77))


def test_one_bit_png():
    image = Image.new("1", (40, 40), 0)
    image.paste(1, (20, 0, 40, 40))
    up = decode_upload(encode(image, "PNG"), "bw.png")
    assert_all(up.pixels[:, :15], (0, 0, 0))
    assert_all(up.pixels[:, 17:], (255, 255, 255))


def test_palette_with_transparency_is_laid_on_white():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 0, 0] + [0, 0, 255] + [0] * 762)
    image.paste(1, (20, 0, 40, 40))  # right half palette entry 1 (blue), left half entry 0 (red)
    data = encode(image, "PNG", transparency=0)  # entry 0 (the red) is fully transparent
    up = decode_upload(data, "pal.png")
    assert_all(up.pixels[:, :15], (255, 255, 255))
    assert_all(up.pixels[:, 17:], (0, 0, 255))
    assert up.notes == ("transparent parts shown on white",)


def test_rgba_is_composited_on_white():
    px = np.zeros((40, 40, 4), np.uint8)
    px[..., :3] = (0, 0, 0)
    px[..., 3] = 128  # half-transparent black on white = mid grey
    up = decode_upload(encode(Image.fromarray(px, "RGBA"), "PNG"), "glass.png")
    assert_all(up.pixels, (127, 127, 127), tol=1)


def test_la_is_composited_on_white():
    px = np.zeros((40, 40, 2), np.uint8)
    px[:, :20] = (0, 255)    # opaque black
    px[:, 20:] = (0, 0)      # fully transparent
    up = decode_upload(encode(Image.fromarray(px, "LA"), "PNG"), "la.png")
    assert_all(up.pixels[:, :15], (0, 0, 0))
    assert_all(up.pixels[:, 17:], (255, 255, 255))


def test_cmyk_jpeg():
    up = decode_upload(encode(solid((0, 255, 255, 0), mode="CMYK"), "JPEG", quality=95), "print.jpg")
    assert up.format == "JPEG"
    assert_all(up.pixels, (255, 0, 0), tol=3)  # no cyan, full magenta and yellow = red


def test_rgb_jpeg_and_webp():
    for fmt, name in (("JPEG", "a.jpg"), ("WEBP", "a.webp")):
        up = decode_upload(encode(solid(RED, (300, 200)), fmt, quality=95), name)
        assert up.format == {"JPEG": "JPEG", "WEBP": "WebP"}[fmt]
        assert_all(up.pixels, RED, tol=4)


def test_lossless_webp_is_exact():
    up = decode_upload(encode(solid(BLUE), "WEBP", lossless=True), "b.webp")
    assert_all(up.pixels, BLUE)


def test_large_jpeg_is_decoded_reduced_but_keeps_its_size():
    up = decode_upload(encode(solid(GREEN, (4000, 3000)), "JPEG", quality=90), "big.jpg")
    assert up.size == (4000, 3000)
    assert max(up.original.shape[:2]) == 512
    assert_all(up.pixels, GREEN, tol=4)


def test_animated_gif_uses_the_first_frame_and_says_so():
    red, blue = (255, 0, 0), (0, 0, 255)  # web-palette colours: exact in a GIF
    frames = [solid(red, (40, 40)).convert("P"), solid(blue, (40, 40)).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    up = decode_upload(buf.getvalue(), "anim.gif")
    assert up.format == "GIF"
    assert_all(up.pixels, red)
    assert up.notes == ("animated GIF: the first frame is used",)


def test_animated_webp_uses_the_first_frame():
    frames = [solid((255, 0, 0), (40, 40)), solid((0, 0, 255), (40, 40))]
    up = decode_upload(encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True),
                       "anim.webp")
    assert_all(up.pixels, (255, 0, 0))
    assert up.notes == ("animated WebP: the first frame is used",)


def test_phone_multi_picture_jpeg_is_a_jpeg_without_a_note():
    main, preview = solid((255, 0, 0), (64, 48)), solid((0, 0, 255), (64, 48))
    data = encode(main, "MPO", save_all=True, append_images=[preview], quality=95)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    up = decode_upload(data, "IMG_0001.JPG")
    assert up.format == "JPEG" and up.notes == ()
    assert_all(up.pixels, (255, 0, 0), tol=4)


def test_single_frame_gif_has_no_note():
    up = decode_upload(encode(solid(BLUE, (40, 40)).convert("P"), "GIF"), "still.gif")
    assert up.notes == ()


def test_exif_orientation_is_applied():
    # Stored 60×30 with left half red; orientation 6 means "rotate 90° clockwise to view":
    # shown 30×60 with the red half on top.
    px = np.zeros((30, 60, 3), np.uint8)
    px[:, :30], px[:, 30:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    up = decode_upload(encode(Image.fromarray(px), "JPEG", quality=95, exif=exif), "phone.jpg")
    assert up.size == (30, 60)
    assert up.original.shape[:2] == (60, 30)
    assert_all(up.original[:25], RED, tol=8)
    assert_all(up.original[35:], BLUE, tol=8)


def test_content_decides_not_the_extension():
    up = decode_upload(encode(solid(RED), "JPEG", quality=95), "actually_a_jpeg.png")
    assert up.format == "JPEG"


def test_file_name_is_made_safe_to_show():
    assert safe_name("C:\\Users\\me\\Desktop\\house.jpg") == "house.jpg"
    assert safe_name("../../etc/cat.png") == "cat.png"
    assert safe_name("[click](javascript:x)*<b>.png") == "-click-(javascript-x)--b-.png"
    assert safe_name("") == "photo"
    long = safe_name("a" * 100 + ".jpeg")
    assert len(long) <= 40 and long.endswith(".jpeg")


# --- What is refused -----------------------------------------------------------------------------


@pytest.fixture
def never_decoded(monkeypatch):
    """Fails the test if any pixel data is decoded: a bomb must be refused from its header alone
    (a behaviour check instead of a timer, which would depend on how busy the machine is)."""
    from PIL import ImageFile

    def load(self, *args, **kwargs):
        raise AssertionError(f"pixel data of a {self.size[0]}×{self.size[1]} image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def refused(data: bytes, name: str = "x.png") -> str:
    with pytest.raises(UploadError) as info:
        decode_upload(data, name)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")
    return message


def test_empty_file():
    assert refused(b"") == "The file is empty (0 bytes); upload a PNG, JPEG, WebP or GIF photo."


def test_file_over_20_mb_is_refused_before_reading():
    message = refused(b"\0" * (MAX_BYTES + 1))
    assert message.startswith("The file is 20.0 MB, more than the 20 MB limit")


def test_text_file_named_png():
    assert refused(b"hello, this is not a picture\n" * 10, "notes.png") == (
        "This file is not an image that can be read; upload a PNG, JPEG, WebP or GIF photo.")


def test_truncated_png():
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), np.uint8)), "PNG")
    message = refused(data[: len(data) // 2])
    assert message.startswith("This image file is damaged or cut off and cannot be read")
    assert "upload another copy" in message


def test_truncated_jpeg():
    data = encode(Image.fromarray(np.random.default_rng(1).integers(0, 256, (200, 200, 3), np.uint8)),
                  "JPEG")
    assert refused(data[:600], "x.jpg").startswith("This image file is damaged")


def test_other_image_formats_are_refused_by_name():
    assert refused(encode(solid(RED), "BMP"), "x.bmp") == (
        "This is a BMP image; upload a PNG, JPEG, WebP or GIF file (save the photo as PNG or JPEG first).")
    assert refused(encode(solid(RED), "TIFF"), "x.tif").startswith("This is a TIFF image")


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """An 8-bit greyscale PNG whose header announces width×height, with a tiny (wrong) data chunk."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + png_chunk(b"IEND", b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [7_000, 9_000, 10_000, 20_000, 60_000])
def test_decompression_bomb_is_refused_from_the_header_fast(side, never_decoded):
    data = png_header_only(side, side)
    assert len(data) < 200
    message = refused(data, "bomb.png")  # 100-3,600 megapixels, never decoded
    assert "megapixel" in message
    if side * side <= 2 * Image.MAX_IMAGE_PIXELS:
        assert message == (f"This image is {side:,}×{side:,} pixels ({side * side / 1e6:,.0f} megapixels), "
                           f"more than the 40 megapixel limit; upload a smaller copy.")
    else:  # beyond twice Pillow's own limit (179 megapixels) Image.open refuses before we see the size
        assert message == ("This image is far too large once unpacked (over 40 megapixels); "
                           "upload a smaller photo.")


def test_real_compressed_bomb_is_refused_fast(never_decoded):
    # 7,000×7,000 black L pixels (49 megapixels) compress to ~50 kB of PNG: a 1,000× bomb.
    packer = zlib.compressobj(9)
    row = b"\0" * 7_001  # filter byte + 7,000 pixels
    raw = b"".join(packer.compress(row) for _ in range(7_000)) + packer.flush()
    data = png_header_only(7_000, 7_000)
    data = data[:data.index(b"IDAT") - 4] + png_chunk(b"IDAT", raw) + png_chunk(b"IEND", b"")
    assert len(data) < 100_000
    assert refused(data, "bomb.png") == ("This image is 7,000×7,000 pixels (49 megapixels), more than the "
                                         "40 megapixel limit; upload a smaller copy.")


def test_just_under_the_pixel_limit_is_accepted():
    side = int(MAX_PIXELS ** 0.5)  # 6,324 × 6,324 = 39.99 megapixels: allowed (it would decode)
    assert side * side <= MAX_PIXELS
    # One colour, so the file is only a few kB; it decodes in well under a second.
    data = encode(Image.new("L", (side, side), 90), "PNG")
    up = decode_upload(data, "big.png")
    assert up.size == (side, side)
    assert_all(up.pixels, (90, 90, 90))
