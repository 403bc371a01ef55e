"""Frames for the live-analysis tests and bench, built from the real face photos in tests/data.

Head motion is simulated two ways:
- ``turn_head``: the face as a 3-D surface (an ellipsoid through the face outline plus a ridge for
  the nose, sized from the landmarks) rotated about a vertical (yaw) or horizontal (pitch) axis
  and re-projected: the nose moves more than the eyes and the outline, as on a real head;
- ``tilt_photo``: the photo as a flat plane rotated about the face centre (a homography): what a
  printed photo held in front of the camera and tilted looks like.
"""

from __future__ import annotations

import io
import math
import os

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from dualrec.media.ports import Face, Image
from tests.conftest import TEST_DATA

DATA = TEST_DATA


def photo(name: str, max_side: int | None = 640) -> Image:
    path = DATA / "faces" / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test media missing in CI: {path}")
        pytest.fail(f"test media missing from the repository: {path} (see tests/data/README.md)")
    img = PILImage.open(path).convert("RGB")
    if max_side is not None and max(img.size) > max_side:
        s = max_side / max(img.size)
        img = img.resize((round(img.width * s), round(img.height * s)), PILImage.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def framed(img: Image, face: Face, size: tuple[int, int] = (640, 480)) -> Image:
    """A ``size`` (width, height) camera frame cut from ``img`` around the face (padded with the
    edge colours where the photo is too small), the face about a third of the frame's height."""
    w, h = size
    face_h = face.box[3] - face.box[1]
    scale = (h / 3) / max(1, face_h)
    big = cv2.resize(
        img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )
    cx = (face.box[0] + face.box[2]) / 2 * scale
    cy = (face.box[1] + face.box[3]) / 2 * scale
    m = np.float32([[1, 0, w / 2 - cx], [0, 1, h / 2.2 - cy]])
    out: Image = cv2.warpAffine(big, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return out


def turn_head(img: Image, face: Face, axis: str, degrees: float) -> Image:
    """``img`` with the head of ``face`` (68 landmarks) rotated by ``degrees`` about ``axis``: "y"
    turns it (+: towards the image's right), "x" nods it (+: chin down)."""
    if degrees == 0:
        return img.copy()
    h, w = img.shape[:2]
    pts = np.asarray(face.landmarks, dtype=np.float32)
    cx, cy = pts[27:36].mean(axis=0)  # the nose
    width = float(np.linalg.norm(pts[16] - pts[0]))  # jaw, ear to ear
    a, b, depth = 0.55 * width, 0.75 * width, 0.6 * width
    top, tip = pts[27], pts[30]
    along = tip - top
    length2 = float(along @ along) + 1e-6
    theta = math.radians(degrees)
    axis_depth = 0.3 * depth  # the rotation axis lies this far inside the head

    def displacement(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r2 = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2
        z = depth * np.sqrt(np.clip(1 - r2, 0, 1))  # towards the camera
        s = np.clip(((x - top[0]) * along[0] + (y - top[1]) * along[1]) / length2, 0, 1)
        off2 = (x - top[0] - s * along[0]) ** 2 + (y - top[1] - s * along[1]) ** 2
        z = z + 0.18 * width * s * np.exp(-off2 / (0.08 * width) ** 2)  # the nose ridge
        weight = np.clip((1.25 - np.sqrt(r2)) / 0.35, 0, 1)  # fade into the still background
        zc = z - axis_depth
        if axis == "y":
            u = x - cx
            return (u * math.cos(theta) + zc * math.sin(theta) - u) * weight, np.zeros_like(x)
        v = y - cy
        return np.zeros_like(x), (v * math.cos(theta) + zc * math.sin(theta) - v) * weight

    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    sx, sy = xs.copy(), ys.copy()
    for _ in range(6):  # invert the forward displacement: source = destination - d(source)
        dx, dy = displacement(sx, sy)
        sx, sy = xs - dx, ys - dy
    out: Image = cv2.remap(img, sx.astype(np.float32), sy.astype(np.float32), cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return out


def tilt_photo(img: Image, face: Face, axis: str, degrees: float) -> Image:
    """``img`` as a flat print rotated by ``degrees`` about the face centre's ``axis`` ("x" or
    "y"), seen by a camera whose focal length is the image's longer side."""
    h, w = img.shape[:2]
    f = float(max(w, h))
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    rot = (
        np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
        if axis == "x"
        else np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    )
    centre = np.linalg.inv(k) @ np.array(
        [(face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2, 1.0]
    )
    # points X on the plane z = Z0 rotated about the face centre C: X' = R X + (I - R) C
    hom = k @ (rot + (np.eye(3) - rot) @ np.outer(centre, [0, 0, 1])) @ np.linalg.inv(k)
    out: Image = cv2.warpPerspective(img, hom, (w, h), borderMode=cv2.BORDER_REPLICATE)
    return out


def jpeg(img: Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(img).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
