"""CIFAR-10 loading: the official archive or an image-folder tree, decoded once and cached."""

from data.cifar10 import (  # noqa: F401
    CIFAR10_CLASSES,
    CifarSplit,
    DatasetError,
    default_root,
    load_split,
    resolve_root,
)
