"""Image edits of the INR-editing job (OpenCV's conventions, on uint8 images).

* ``dilate`` — grey dilation with a 3×3 square, one pass;
* ``erode`` — grey erosion with a 2×2 square whose anchor is its bottom-right cell, so the
  window is the pixel, the one above, the one to the left and the one above-left;
* ``gradient`` — dilation minus erosion, both with that 2×2 up-left window.

Out-of-image pixels never win (a constant border of 0 for max, 255 for min). Implemented with
``scipy.ndimage.maximum_filter`` / ``minimum_filter`` (a dependency already, well kept, and its
even-size windows sit up-left as OpenCV's do — its ``grey_dilation`` reflects the window and
would not), bit-exact against the reference's OpenCV targets (``editing_targets`` fixtures).
"""

from __future__ import annotations

import numpy as np
import torch

from dng.errors import ConfigError

STYLES = ("dilate", "erode", "gradient")


def stylize(images: torch.Tensor, style: str) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` → the edited uint8 images (see the module docstring)."""
    from scipy import ndimage

    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r} (choose {', '.join(STYLES)})")
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ConfigError(f"stylize takes uint8 images (N, C, H, W), got {images.dtype} "
                          f"{tuple(images.shape)}")
    x = images.cpu().numpy()
    mx = lambda k: ndimage.maximum_filter(x, size=(1, 1, k, k), mode="constant", cval=0)  # noqa: E731
    mn = lambda k: ndimage.minimum_filter(x, size=(1, 1, k, k), mode="constant", cval=255)  # noqa: E731
    out = mx(3) if style == "dilate" else mn(2) if style == "erode" else mx(2) - mn(2)
    return torch.from_numpy(np.ascontiguousarray(out)).to(images.device)
