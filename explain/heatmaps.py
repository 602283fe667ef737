"""Heat maps over the input: channel sum (the lecture's), CAM and Grad-CAM.

CAM (Zhou et al., 2016): for class k, ``CAM_k = sum_c W[k, c] * A[c]`` where A is the
C×H×W output of block 3 and W the classifier's weights. Because the network ends in global
average pooling and one linear layer, ``mean(CAM_k) + b[k]`` is exactly logit k.
Grad-CAM comes from Captum's ``LayerGradCam`` (imported only when first used: it costs
seconds). Captum hooks the layer it explains, so it runs on a private copy of the model: the
shared model's forward passes for other sessions never meet its hooks (with the hooks on the
shared model, 20 concurrent browser sessions made Grad-CAM fail now and then).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from model.network import LectureCNN

CAM_LAYER = "block3"  # output of block 3 (after pooling): what the classifier averages
GRADCAM_LAYER = "block3.relu3"  # last activation before pooling: twice the resolution


def upsample(heatmap: np.ndarray, size: int = 32) -> np.ndarray:
    """H×W map → size×size, bilinear (as Captum's ``LayerAttribution.interpolate``)."""
    t = torch.as_tensor(np.asarray(heatmap, dtype=np.float32))[None, None]
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def channel_sum(features: np.ndarray) -> np.ndarray:
    """The lecture's heat map: all channels of a layer added up (C×H×W → H×W)."""
    a = np.asarray(features)
    if a.ndim != 3:
        raise ValueError(f"features must be C×H×W, got shape {a.shape}")
    return a.sum(axis=0)


def class_activation_map(classifier: nn.Linear, features: np.ndarray, class_index: int) -> np.ndarray:
    """CAM for ``class_index`` from the block-3 maps (C×H×W) and the linear layer's weights."""
    w = classifier.weight.detach().cpu().numpy()
    if not 0 <= class_index < w.shape[0]:
        raise ValueError(f"class_index must be in 0..{w.shape[0] - 1}, got {class_index}")
    a = np.asarray(features, dtype=np.float32)
    if a.ndim != 3 or a.shape[0] != w.shape[1]:
        raise ValueError(f"features must be {w.shape[1]}×H×W, got {a.shape}")
    return np.tensordot(w[class_index], a, axes=1)


def grad_cam(model: LectureCNN, x: torch.Tensor, class_index: int, layer: str = GRADCAM_LAYER) -> np.ndarray:
    """Grad-CAM (ReLU of gradient-weighted channel sum) at ``layer`` for one image, H×W."""
    from captum.attr import LayerGradCam

    from explain.activations import check_layer

    check_layer(model, layer)
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"x must be 1×3×H×W, got {tuple(x.shape)}")
    private = copy.deepcopy(model).eval()  # ~1 MB of weights: a few milliseconds
    module = check_layer(private, layer).module
    with torch.enable_grad():
        attribution = LayerGradCam(private, module).attribute(
            x.detach().clone(), target=int(class_index), relu_attributions=True)
    return attribution.detach()[0, 0].cpu().numpy()


def normalise(heatmap: np.ndarray) -> np.ndarray:
    """Scale to 0..1 for overlaying (a constant map becomes all zeros)."""
    h = np.asarray(heatmap, dtype=np.float32)
    lo, hi = float(h.min()), float(h.max())
    return (h - lo) / (hi - lo) if hi > lo else np.zeros_like(h)


# --- Batches and one entry point for the "Prediction heatmaps" page ----------------------

FEATURE_LAYER = "block3.pool"  # name of block 3's output in explain.activations
METHODS = ("channel sum", "CAM", "Grad-CAM")


def channel_sums(features: np.ndarray) -> np.ndarray:
    """:func:`channel_sum` for a batch: N×C×H×W → N×H×W."""
    a = np.asarray(features)
    if a.ndim != 4:
        raise ValueError(f"features must be N×C×H×W, got shape {a.shape}")
    return a.sum(axis=1)


def class_activation_maps(classifier: nn.Linear, features: np.ndarray, class_indices) -> np.ndarray:
    """:func:`class_activation_map` for a batch: image ``i`` gets the CAM of ``class_indices[i]``."""
    w = classifier.weight.detach().cpu().numpy()
    a = np.asarray(features, dtype=np.float32)
    k = np.asarray(class_indices, dtype=np.int64).reshape(-1)
    if a.ndim != 4 or a.shape[1] != w.shape[1]:
        raise ValueError(f"features must be N×{w.shape[1]}×H×W, got {a.shape}")
    if len(k) != len(a):
        raise ValueError(f"need one class per image: {len(a)} images, {len(k)} classes")
    if len(k) and not ((k >= 0) & (k < w.shape[0])).all():
        raise ValueError(f"class indices must be in 0..{w.shape[0] - 1}, got {k.tolist()}")
    return np.einsum("nc,nchw->nhw", w[k], a)


def heatmap(model: LectureCNN, x: torch.Tensor, method: str,
            class_index: int) -> tuple[np.ndarray, str, tuple]:
    """One image's heat map by ``method`` (see :data:`METHODS`), at the layer's own resolution.

    Returns the H×W map, the name of the layer it is computed on and that layer's N×C×H×W
    shape. ``class_index`` is ignored by the channel sum. The model is not changed.
    """
    from explain.activations import all_activations

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if method == "Grad-CAM":
        acts = all_activations(model, x)
        return grad_cam(model, x, class_index), GRADCAM_LAYER, tuple(acts[GRADCAM_LAYER].shape)
    features = all_activations(model, x)[FEATURE_LAYER]
    shape = tuple(features.shape)
    a = features[0].numpy()
    if method == "channel sum":
        return channel_sum(a), FEATURE_LAYER, shape
    return class_activation_map(model.classifier, a, class_index), FEATURE_LAYER, shape


@dataclass(frozen=True)
class HeatMap:
    """One heat map of one image, at its layer's own resolution."""

    method: str          # one of METHODS
    values: np.ndarray   # H×W
    layer: str           # the layer it is computed on
    shape: tuple         # that layer's N×C×H×W shape


@dataclass(frozen=True)
class ImageHeatMaps:
    """The Prediction heatmaps view of one image for one class: what its figures and its slide take."""

    class_index: int
    maps: tuple[HeatMap, ...]  # one per method, in METHODS order
    cam_bias: float            # the classifier's bias for the class

    def of(self, method: str) -> HeatMap:
        return next(m for m in self.maps if m.method == method)

    @property
    def cam_logit(self) -> float:
        """Mean of the CAM + the class's bias: the class's logit, exactly (global average pooling
        and one linear layer), which the page shows as the CAM identity."""
        return float(self.of("CAM").values.mean()) + self.cam_bias


def image_heatmaps(model: LectureCNN, x: torch.Tensor, class_index: int) -> ImageHeatMaps:
    """Channel sum, CAM and Grad-CAM of one image (a 1×3×32×32 tensor) for ``class_index``."""
    maps = tuple(HeatMap(method, *heatmap(model, x, method, class_index)) for method in METHODS)
    return ImageHeatMaps(int(class_index), maps, float(model.classifier.bias.detach()[class_index]))
