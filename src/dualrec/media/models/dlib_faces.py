"""Face detection, 68-point landmarks and 128-D descriptors with dlib.

Models come from the ``face_recognition_models`` package (located on disk without importing it:
its ``__init__`` uses the deprecated ``pkg_resources``). Licences: dlib is Boost; the 68-point
landmark model was trained on iBUG 300-W, whose images are restricted to non-commercial use.

Detection (HOG) runs on a grey copy, downscaled to ``detect_width`` by default or scaled so that
the narrowest face asked for (``detect(min_face=...)``) is ``face_px`` wide in it; boxes are mapped
back to the input image, and landmarks (grey) and descriptors (colour) are computed on the
full-resolution image. Grey, because HOG on RGB computes gradients on all three channels: measured
on the QC bench frames (640×360) 25 → 17 ms per detection, with the same faces found in every frame
of the QC test recordings and in all test photos, and landmarks within 0.4 px.

dlib's HOG window finds faces from ~62 px wide in its input (measured on the test photos placed at
50–100 px in a 1280×720 frame: 56 px 3 of 6 found, 60 px 5 of 6, 64 px and more all); ``face_px``
leaves a margin above that (see ``bench/face_recall.py`` for the recall it gives).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dualrec.errors import EngineUnavailableError
from dualrec.i18n import msg
from dualrec.media.ports import Device, Face, Image

__all__ = ["DlibFaceAnalyzer", "DlibFaceOptions", "dlib_model_paths"]

logger = logging.getLogger(__name__)

_MODEL_FILES = {
    "landmarks": "shape_predictor_68_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
}


def dlib_model_paths() -> dict[str, Path]:
    """Paths of the model files shipped by ``face_recognition_models`` (without importing it)."""
    spec = find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            msg("media.face_model_package_installed_pip"),
            details={"engine": "dlib", "package": "face_recognition_models"},
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "models"
    return {key: root / name for key, name in _MODEL_FILES.items()}


@dataclass(frozen=True)
class DlibFaceOptions:
    detect_width: int = 640  # by default detection runs on a copy at most this wide
    upsample: int = 0  # HOG pyramid upsampling: 1 finds faces down to ~40 px, at ~4x the cost
    # detect(min_face=m) searches a copy scaled by face_px / m (enlarged for small faces), at most
    # max_detect_pixels large (a bound on the cost: ~100 ms for 1.5 Mpx on 2 cores)
    face_px: int = 72
    max_detect_pixels: int = 2_400_000
    device: Device = "cpu"
    num_jitters: int = 0  # >0: average descriptors over jittered crops (slower, a bit more robust)


class _Models:
    def __init__(self) -> None:
        import dlib

        paths = dlib_model_paths()
        for path in paths.values():
            if not path.is_file():
                raise EngineUnavailableError(
                    msg("media.face_model_file_missing", path=path),
                    details={"engine": "dlib", "file": str(path)},
                )
        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(paths["landmarks"]))
        self.encoder = dlib.face_recognition_model_v1(str(paths["descriptor"]))
        self.lock = threading.Lock()  # dlib objects are not documented as thread-safe


_models: _Models | None = None
_models_lock = threading.Lock()


def _shared_models() -> _Models:
    global _models
    with _models_lock:
        if _models is None:
            _models = _Models()
        return _models


def _check_device(device: Device) -> None:
    if device != "cuda":
        return
    import dlib

    if not getattr(dlib, "DLIB_USE_CUDA", False) or dlib.cuda.get_num_devices() == 0:
        raise EngineUnavailableError(
            msg("media.dlib_build_cuda_support_dlib"),
            details={"engine": "dlib", "device": device},
        )


def _scaled(grey: npt.NDArray[np.uint8], scale: float) -> npt.NDArray[np.uint8]:
    if scale == 1.0:
        return grey
    from PIL import Image as PILImage

    h, w = grey.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(PILImage.fromarray(grey).resize(size, PILImage.Resampling.BILINEAR), dtype=np.uint8)


class DlibFaceAnalyzer:
    """``FaceAnalyzer`` on dlib; models load on first use, once per process."""

    def __init__(self, options: DlibFaceOptions | None = None) -> None:
        self.options = options or DlibFaceOptions()
        _check_device(self.options.device)

    def load(self) -> None:
        _shared_models()

    def scale_for(self, width: int, height: int, min_face: int | None) -> float:
        """The scale detection runs at on a ``width``×``height`` image (see ``detect``)."""
        o = self.options
        if min_face is None:
            return min(1.0, o.detect_width / max(1, width))
        scale = o.face_px / max(1, min_face)
        return min(scale, math.sqrt(o.max_detect_pixels / max(1, width * height)))

    def detect(self, image: Image, *, min_face: int | None = None) -> list[Face]:
        grey = _grey(_rgb_contiguous(image))
        m = _shared_models()
        h, w = grey.shape[:2]
        scale = self.scale_for(w, h, min_face)
        small = _scaled(grey, scale)
        scale = small.shape[1] / w  # as rounded
        faces: list[Face] = []
        with m.lock:
            rects, scores, _kinds = m.detector.run(small, self.options.upsample, 0.0)
            for rect, score in zip(rects, scores, strict=True):
                left = min(max(0, round(rect.left() / scale)), w - 1)
                top = min(max(0, round(rect.top() / scale)), h - 1)
                right = min(max(left + 1, round((rect.right() + 1) / scale)), w)
                bottom = min(max(top + 1, round((rect.bottom() + 1) / scale)), h)
                shape = m.predictor(grey, m.dlib.rectangle(left, top, right - 1, bottom - 1))
                points = tuple((float(p.x), float(p.y)) for p in shape.parts())
                faces.append(Face(box=(left, top, right, bottom), score=float(score), landmarks=points))
        faces.sort(key=lambda f: f.width * f.height, reverse=True)
        return faces

    def landmarks(self, image: Image, box: tuple[int, int, int, int]) -> Face:
        """68 landmarks fitted from ``box`` (the shape predictor alone: ~1 ms instead of a detection).
        Only the box and a margin around it are converted to grey."""
        h, w = image.shape[:2]
        left, top, right, bottom = box
        mx, my = (right - left) // 2 + 2, (bottom - top) // 2 + 2
        x0, y0 = max(0, left - mx), max(0, top - my)
        grey = _grey(_rgb_contiguous(image[y0 : min(h, bottom + my), x0 : min(w, right + mx)]))
        m = _shared_models()
        with m.lock:
            shape = m.predictor(grey, m.dlib.rectangle(left - x0, top - y0, right - 1 - x0, bottom - 1 - y0))
            parts = shape.parts()
        points = tuple((float(p.x + x0), float(p.y + y0)) for p in parts)
        return Face(box=box, score=0.0, landmarks=points)

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        image = _rgb_contiguous(image)
        m = _shared_models()
        left, top, right, bottom = face.box
        rect = m.dlib.rectangle(left, top, right - 1, bottom - 1)
        with m.lock:
            if len(face.landmarks) == 68:
                parts = m.dlib.points()
                for x, y in face.landmarks:
                    parts.append(m.dlib.point(round(x), round(y)))
                shape = m.dlib.full_object_detection(rect, parts)
            else:
                shape = m.predictor(image, rect)
            descriptor: Any = m.encoder.compute_face_descriptor(image, shape, self.options.num_jitters)
        return np.asarray(descriptor, dtype=np.float64)


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _grey(image: Image) -> npt.NDArray[np.uint8]:
    """ITU-R 601 luma. OpenCV (installed with the ai extra, like dlib) does it in ~0.3 ms for a
    640×480 frame, ~7× faster than numpy; the two differ by at most 1 level on ~0.1 % of pixels."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - OpenCV comes with the ai extra
        grey: npt.NDArray[np.uint8] = np.ascontiguousarray((image @ _LUMA).round().astype(np.uint8))
        return grey
    out: npt.NDArray[np.uint8] = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    return out


def _rgb_contiguous(image: Image) -> Image:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("expected an RGB uint8 image of shape (H, W, 3)")
    return np.ascontiguousarray(image)
