"""Issue 13: stable channel colours, the top-N winners and one "other", borders, and the slide in
the same colours as the page."""

from __future__ import annotations

import numpy as np
import pytest

from explain.semantic import OTHER, grouped_map, regions, semantic_view, split_top
from render.semantic import (
    OTHER_COLOUR,
    PALETTE_SIZE,
    channel_colour,
    palette,
    region_borders,
    rgb,
    semantic_legend,
    semantic_map_figure,
    semantic_panel,
    semantic_pixels,
)

IMAGE = np.full((32, 32, 3), 128, np.uint8)


def map_colour(view, image, row: int, col: int) -> tuple[int, ...]:
    """The colour the page's map paints at the centre of cell (row, col), at opacity 1."""
    px = semantic_pixels(image, view.grouped, 1.0, 512)
    cell = 512 // view.grouped.shape[0]
    return tuple(int(v) for v in px[row * cell + cell // 2, col * cell + cell // 2])


def test_palette_is_fixed_distinct_and_never_grey():
    colours = palette()
    assert len(colours) == PALETTE_SIZE == len(set(colours))
    assert palette() is colours  # built once
    for hexcol in colours:
        r, g, b = rgb(hexcol)
        assert max(r, g, b) - min(r, g, b) > 60, hexcol  # saturated: cannot pass for "other"
    # Neighbouring channel numbers get clearly different colours.
    for c in range(PALETTE_SIZE - 1):
        a, b = np.array(rgb(colours[c])), np.array(rgb(colours[c + 1]))
        assert np.abs(a - b).sum() > 120, c
    assert channel_colour(OTHER) == OTHER_COLOUR


def test_a_channels_colour_is_the_same_on_two_images(acts_of):
    a, b = acts_of(12)["block3.relu3"], acts_of(16)["block3.relu3"]  # two dogs
    va, vb = semantic_view(a, "block3.relu3", {}), semantic_view(b, "block3.relu3", {})
    common = sorted(set(va.shown) & set(vb.shown))
    assert common, "the two dogs share no top-8 winner"
    for ch in common:
        ra, rb = [{r["channel"]: r["colour"] for r in semantic_legend(v)} for v in (va, vb)]
        assert ra[f"#{ch}"] == rb[f"#{ch}"]  # the legend's swatch
        cells_a, cells_b = np.argwhere(va.grouped == ch)[0], np.argwhere(vb.grouped == ch)[0]
        assert map_colour(va, IMAGE, *cells_a) == map_colour(vb, IMAGE, *cells_b) == rgb(channel_colour(ch))
    # … whatever its rank: the ranks differ between the two images for at least one shared channel
    # or the shared channel's colour is simply its own (not the rank's).
    assert all(channel_colour(ch) == palette()[ch] for ch in common)


def test_page_and_slide_use_the_same_colours(acts_of):
    view = semantic_view(acts_of(16)["block3.relu3"], "block3.relu3", {"block3.relu3": {"1": "ear"}}, top_n=6)
    panel = semantic_panel(view, IMAGE, 0.4)
    slide = {code: colour for code, _, colour in panel.legend}
    assert list(slide) == [*view.shown, OTHER]
    for ch in view.shown:
        r, c = np.argwhere(view.grouped == ch)[0]
        assert slide[ch] == channel_colour(ch)
        assert map_colour(view, IMAGE, r, c) == rgb(slide[ch])
    assert slide[OTHER] == OTHER_COLOUR
    np.testing.assert_array_equal(panel.categories, view.grouped)
    assert panel.borders


@pytest.mark.parametrize("top_n", [1, 3, 8, 12, 200])
def test_other_collects_exactly_the_channels_outside_the_top_n(acts_of, top_n):
    maps = acts_of(12)["block2.relu3"]  # many winners
    view = semantic_view(maps, "block2.relu3", {}, top_n=top_n)
    winners = maps.argmax(axis=0)
    counts = np.bincount(winners.ravel(), minlength=maps.shape[0])
    ranked = sorted(np.flatnonzero(counts), key=lambda c: (-counts[c], c))
    assert view.shown == tuple(ranked[:top_n])
    assert set(view.others) == set(ranked[top_n:]) and not set(view.others) & set(view.shown)
    expected = np.where(np.isin(winners, ranked[:top_n]), winners, OTHER)
    np.testing.assert_array_equal(view.grouped, expected)
    assert view.other_share == pytest.approx(np.isin(winners, ranked[top_n:]).mean())
    rows = semantic_legend(view)
    other = ["other"] if ranked[top_n:] else []
    assert [r["channel"] for r in rows] == [f"#{c}" for c in ranked[:top_n]] + other
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)


def test_split_top_and_grouped_map_by_hand():
    shares = ((5, 0.5), (2, 0.25), (9, 0.125), (1, 0.125))
    assert split_top(shares, 2) == ((5, 2), (9, 1))
    assert split_top(shares, 0) == ((), (5, 2, 9, 1))
    assert grouped_map(np.array([[5, 9], [1, 2]]), (5, 2)).tolist() == [[5, OTHER], [OTHER, 2]]


def test_regions_and_borders_follow_changes_of_the_winner():
    codes = np.array([[1, 1, 2], [1, 3, 2], [3, 3, 2]])
    found = regions(codes)
    assert sorted((c, len(cells)) for c, cells in found) == [(1, 3), (2, 3), (3, 3)]
    edge = region_borders(codes, 4)
    assert edge.shape == (12, 12)
    assert not edge[0:2, 0:2].any()          # inside the region of 1
    assert edge[0:4, 7:9].all()              # between 1 (col 1) and 2 (col 2), on both sides
    assert not region_borders(np.zeros((3, 3), int), 4).any()
    # The page draws those borders (white) over the colours.
    view = semantic_view(np.stack([codes == k for k in range(4)]).astype(np.float32), "l", {})
    px = semantic_pixels(IMAGE, view.grouped, 0.4, 96)
    assert (px[0:32, 63] == 255).all() and (px[4, 4] != 255).any()


@pytest.mark.parametrize(("side", "size", "opacity"), [(8, 512, 0.4), (16, 512, 1.0), (32, 512, 0.7), (4, 96, 0.4)])
def test_map_pixels_equal_a_blend_at_full_size(side, size, opacity):
    """semantic_pixels blends at 32×32 and upscales: the same pixels as blending every display pixel."""
    rng = np.random.default_rng(side)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    codes = rng.integers(-1, 5, (side, side))
    codes[codes < 0] = OTHER
    cell, px = size // side, size // 32
    big_image = image.repeat(px, 0).repeat(px, 1).astype(np.float64)
    big_codes = codes.repeat(cell, 0).repeat(cell, 1)
    colours = np.array([rgb(channel_colour(int(c))) for c in big_codes.ravel()], float).reshape(size, size, 3)
    alpha = np.where(big_codes == OTHER, opacity * 0.3, opacity)[..., None]
    expected = np.clip(np.round((1 - alpha) * big_image + alpha * colours), 0, 255)
    expected[region_borders(codes, cell, width=max(2, cell // 16))] = 255
    assert np.abs(semantic_pixels(image, codes, opacity, size).astype(int) - expected).max() <= 1


def test_map_labels_each_region_once_and_other_never():
    maps = np.zeros((20, 8, 8), np.float32)
    for k in range(20):  # channel k wins row k // 3 … many winners
        maps[k, (k * 3) // 8, (k * 3) % 8] = 1.0 + k
    maps[0] += 0.5  # channel 0 wins every other position
    view = semantic_view(maps, "l", {"l": {"0": "sky"}}, top_n=3)
    labels = [a["text"] for a in semantic_map_figure(IMAGE, view).to_plotly_json()["layout"]["annotations"]]
    zero = [cells for code, cells in regions(view.grouped) if code == 0]
    assert labels.count("sky") == len([c for c in zero if len(c) > 1])  # named where there is room …
    assert labels.count("#0") == len([c for c in zero if len(c) == 1])  # … "#0" in a single cell
    assert not any(text == "other" for text in labels)
    assert set(labels) <= {"sky"} | {f"#{c}" for c in view.shown}
