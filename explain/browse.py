"""Filtering and sorting the test set for the image browser and the gallery."""

from __future__ import annotations

import numpy as np

from locales import known

CORRECTNESS = (known("all"), known("correct"), known("incorrect"))
# Marks that every font has (colour emoji are missing on many lecture-hall machines).
RIGHT, WRONG = "✓", "✗"


def mark(correct: bool) -> str:
    return RIGHT if correct else WRONG
SORTS = (known("confidence, high first"), known("confidence, low first"), known("test index"))


def select_images(labels: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                  true_class: int | None = None, predicted_class: int | None = None,
                  correctness: str = "all", sort: str = SORTS[0]) -> np.ndarray:
    """Array positions of the images that pass the filters, in the requested order."""
    if correctness not in CORRECTNESS:
        raise ValueError(f"correctness must be one of {CORRECTNESS}, not {correctness!r}")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
    keep = np.ones(len(labels), dtype=bool)
    if true_class is not None:
        keep &= labels == true_class
    if predicted_class is not None:
        keep &= predicted == predicted_class
    if correctness == "correct":
        keep &= labels == predicted
    elif correctness == "incorrect":
        keep &= labels != predicted
    positions = np.flatnonzero(keep)
    if sort == SORTS[0]:
        positions = positions[np.argsort(-confidence[positions], kind="stable")]
    elif sort == SORTS[1]:
        positions = positions[np.argsort(confidence[positions], kind="stable")]
    return positions


def page_of(positions: np.ndarray, page: int, per_page: int) -> tuple[np.ndarray, int]:
    """One page of ``positions`` (pages count from 1, clamped) and the number of pages."""
    pages = max(1, (len(positions) + per_page - 1) // per_page)
    page = min(max(1, page), pages)
    return positions[(page - 1) * per_page: page * per_page], pages
