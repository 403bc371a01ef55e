"""Live analysis of the frames a customer's page streams during a self-service session.

Per frame (``LiveFrameAnalyzer.analyze``): brightness and texture (covered / too dark), faces with
landmarks, the main face's head pose and eye aspect ratio (for the liveness challenge in
``core.liveness``), its distance to the verified customer, and the debounced compliance alerts
(``core.live_alerts``). The face engine is injected (a ``media.ports.FaceAnalyzer``); OpenCV is
only used for the pose (``cv2.solvePnP``) and resizing and is imported on first use, so importing
this module loads no heavy library.

Identity is the expensive part (a 128-D descriptor costs 100–350 ms of wall time, ~4–6× a
detection), so the main face is embedded only when needed: when there is no distance for it yet
(a new track: first face, or the face was lost), when the caller asks for it (``analyze(...,
identity=True)``: an identity step), when its box jumps (centre moved more than ``embed_jump``
face widths, or its size changed by more than that fraction), when its appearance changed (a
32×32 grey patch aligned on the eyes and mouth correlates less than ``embed_on_change`` with the
patch of the last descriptor: ~0.1 ms), and as a periodic re-verification every
``embed_interval_s``; in between the last distance is reused. A customer swapped for someone else
in the same place is caught by the appearance change at once (measured on frames built from the
test photos: the same face turning ±8° and drifting correlates ≥ 0.97, turned ±15° ≥ 0.88; Obama's
and Biden's faces ≤ 0.40), and at worst by the re-verification within ``embed_interval_s``; then
``alerts.raise_after_s`` later it is an alert.

Detection runs on small copies: between full-picture searches (every ``full_detect_interval_s``)
the face is tracked by searching only the region around the last faces, on a copy scaled so the
face is just large enough for the detector (``roi_min_face``).
"""

from __future__ import annotations

import io
import logging
import math
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dualrec.core.live_alerts import AlertCode, AlertDebouncer, AlertEvent, AlertOptions
from dualrec.core.liveness import PoseSample
from dualrec.errors import EngineUnavailableError, InvalidInputError
from dualrec.i18n import msg
from dualrec.media.ports import Face, FaceAnalyzer, Image

__all__ = [
    "FrameLimits",
    "FrameObservation",
    "LiveFrameAnalyzer",
    "LiveOptions",
    "decode_frame",
    "eye_aspect_ratio",
    "face_patch",
    "head_pose",
]

logger = logging.getLogger(__name__)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# ----------------------------------------------------------------------------------- head pose

# A generic head in millimetres: x to the image's right, y down, z away from the camera, origin at
# the nose tip (dlib point 30). x/y are the mean of the frontal test photos' landmarks scaled to a
# 90 mm distance between the outer eye corners; depths are typical adult profile values. Only
# points on rigid parts that do not slide along the face contour when the head turns.
_MODEL_POINTS: tuple[tuple[int, tuple[float, float, float]], ...] = (
    (8, (0.0, 95.0, 30.0)),  # chin
    (17, (-60.0, -40.0, 42.0)),  # brow, outer ends
    (26, (60.0, -40.0, 42.0)),
    (21, (-12.0, -51.0, 22.0)),  # brow, inner ends
    (22, (12.0, -51.0, 22.0)),
    (27, (0.0, -38.0, 24.0)),  # top of the nose bridge
    (30, (0.0, 0.0, 0.0)),  # nose tip
    (33, (0.0, 15.0, 16.0)),  # below the nose
    (36, (-45.0, -32.0, 45.0)),  # eye corners: outer, inner, inner, outer
    (39, (-20.0, -32.0, 30.0)),
    (42, (20.0, -32.0, 30.0)),
    (45, (45.0, -32.0, 45.0)),
    (48, (-33.0, 38.0, 32.0)),  # mouth corners
    (54, (33.0, 38.0, 32.0)),
)
_MODEL_IDX = [i for i, _ in _MODEL_POINTS]
_MODEL = np.array([p for _, p in _MODEL_POINTS], dtype=np.float64)
_EYE_SPAN_MM = 90.0


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - installed with the ai extra (rapidocr)
        raise EngineUnavailableError(
            msg("pipeline.opencv_installed_pip_install_dualrec"),
            details={"engine": "opencv"},
        ) from exc
    return cv2


def head_pose(face: Face, image_size: tuple[int, int]) -> tuple[float, float, float] | None:
    """(yaw, pitch, roll) in degrees of the head in an image of ``image_size`` (width, height);
    None without 68 landmarks or when no plausible pose fits them.

    Yaw + = turned towards the image's right, pitch + = chin down, roll + = tilted clockwise. The
    angles are relative to the line from the camera to the face, not to the optical axis: a face
    that moves across the picture while looking at the camera keeps yaw and pitch ≈ 0 (otherwise
    sliding sideways would look like a head shake). The camera is assumed to have its focal length
    equal to the frame's longer side (a ~55° view, typical of phone front cameras).
    """
    if len(face.landmarks) < 68:
        return None
    cv2 = _cv2()
    w, h = image_size
    pts = np.array([face.landmarks[i] for i in _MODEL_IDX], dtype=np.float64)
    focal = float(max(w, h))
    camera = np.array([[focal, 0.0, w / 2], [0.0, focal, h / 2], [0.0, 0.0, 1.0]])
    span = float(np.linalg.norm(pts[11] - pts[8]))  # outer eye corners, pixels
    if span < 4:
        return None
    # start from a frontal face at the distance its eye span implies: keeps the solver away from
    # the mirrored solution (a face looking away from the camera)
    z = focal * _EYE_SPAN_MM / span
    nose = pts[6]
    tvec = np.array([[(nose[0] - w / 2) * z / focal], [(nose[1] - h / 2) * z / focal], [z]])
    rvec = np.zeros((3, 1))
    ok, rvec, tvec = cv2.solvePnP(_MODEL, pts, camera, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE)
    if not ok or float(tvec[2, 0]) <= 0:
        return None
    rot, _ = cv2.Rodrigues(rvec)
    # express the rotation relative to the ray from the camera to the face
    ray = tvec[:, 0] / float(np.linalg.norm(tvec))
    axis = np.cross([0.0, 0.0, 1.0], ray)
    sin_a = float(np.linalg.norm(axis))
    if sin_a > 1e-9:
        to_ray, _ = cv2.Rodrigues((axis / sin_a * math.asin(min(1.0, sin_a))).reshape(3, 1))
        rot = to_ray.T @ rot
    if rot[2, 2] <= 0:  # the model's back of the head faces the camera: not a face pose
        return None
    yaw = -math.degrees(math.asin(max(-1.0, min(1.0, -float(rot[2, 0])))))
    pitch = math.degrees(math.atan2(float(rot[2, 1]), float(rot[2, 2])))
    roll = math.degrees(math.atan2(float(rot[1, 0]), float(rot[0, 0])))
    return yaw, pitch, roll


def eye_aspect_ratio(face: Face) -> float | None:
    """Mean eye aspect ratio of both eyes (eyelid gap ÷ eye width; open ≈ 0.25–0.35, closed
    < 0.15); None without 68 landmarks or when an eye is too small to measure."""
    if len(face.landmarks) < 68:
        return None
    p = np.asarray(face.landmarks, dtype=np.float64)
    ratios = []
    for eye in (p[36:42], p[42:48]):
        width = float(np.linalg.norm(eye[0] - eye[3]))
        if width < 2.0:
            return None
        gap = float(np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / 2
        ratios.append(gap / width)
    return sum(ratios) / 2


# ------------------------------------------------------------------------------ frame decoding


@dataclass(frozen=True)
class FrameLimits:
    max_bytes: int = 2 * 1024 * 1024  # a 1280×720 JPEG at quality 90 is ~200 KB
    max_side: int = 4096  # pixels, either side


_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


def decode_frame(data: bytes | bytearray | memoryview, limits: FrameLimits | None = None) -> Image:
    """A JPEG, PNG or WebP frame sent by the page → RGB uint8 (H, W, 3).

    Raises ``InvalidInputError`` (never anything else) for no bytes, too many bytes, another
    format, dimensions over the limit (checked from the header, before decoding) and corrupt or
    truncated data.
    """
    from PIL import Image as PILImage

    lim = limits or FrameLimits()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(msg("pipeline.frame_must_bytes"), details={"type": type(data).__name__})
    size = len(data)
    if size == 0:
        raise InvalidInputError(msg("pipeline.frame_empty_0_bytes"))
    if size > lim.max_bytes:
        raise InvalidInputError(
            msg("pipeline.frame_too_large_bytes_limit", size=size, max_bytes=lim.max_bytes),
            details={"bytes": size, "limit": lim.max_bytes},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            img = PILImage.open(io.BytesIO(bytes(data)), formats=list(_FORMATS))
    except PILImage.DecompressionBombError as exc:  # far over any limit of ours
        raise InvalidInputError(
            msg("pipeline.frame_dimensions_exceed_limit_px", max_side=lim.max_side),
            details={"bytes": size, "limit": lim.max_side},
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidInputError(
            msg("pipeline.readable_jpeg_png_webp_image"),
            details={"bytes": size},
        ) from exc
    with img:
        w, h = img.size
        if w <= 0 or h <= 0 or w > lim.max_side or h > lim.max_side:
            raise InvalidInputError(
                msg("pipeline.frame_dimensions_exceed_limit_px_2", w=w, h=h, max_side=lim.max_side),
                details={"width": w, "height": h, "limit": lim.max_side},
            )
        try:
            rgb = img.convert("RGB")  # decodes (the first frame of an animation)
        except (OSError, ValueError, SyntaxError, MemoryError) as exc:
            raise InvalidInputError(
                msg("pipeline.corrupt_data", value=_FORMATS.get(img.format or "", "image"), exc=exc),
                details={"bytes": size},
            ) from exc
    out: Image = np.asarray(rgb, dtype=np.uint8)
    return out


# ------------------------------------------------------------------------------- the analyser


@dataclass(frozen=True)
class LiveOptions:
    max_side: int = 640  # frames are analysed at most this large (longer side)
    # between full-frame detections (at least every full_detect_interval_s, and whenever the last
    # faces are not all found again) only the region around the last faces is searched, grown by
    # roi_margin face sizes on each side: ~2.4× cheaper for a face a third of the frame high
    roi_detect: bool = True
    roi_margin: float = 0.6
    # the region is searched on a copy scaled for faces down to this fraction of the last face's
    # width (the engine picks the scale: a face 160 px wide is searched at ~0.65×); None: the
    # engine's default scale
    roi_min_face: float | None = 0.7
    full_detect_interval_s: float = 1.0
    full_min_face: int | None = None  # narrowest face (analysed pixels) a full search must find
    identity_max_distance: float = 0.6  # descriptor distance above this: not the customer
    # periodic re-verification: re-embed the main face at least this often, and at once when its
    # box moved/resized by more than ``embed_jump`` (face widths) or its aligned grey patch
    # correlates less than ``embed_on_change`` with the one of the last descriptor (0: off)
    embed_interval_s: float = 6.0
    embed_jump: float = 0.5
    embed_on_change: float = 0.8
    # covered (a hand or finger over the lens, a black frame): dark AND almost no texture
    covered_luma: float = 70.0  # mean luma 0..255
    # mean |luma difference| between neighbouring grid cells; measured on the test photos: a scene
    # ≥ 5, the same scene at 15–25 % light 1.4–4, a blurred dark hand (with sensor noise) ≤ 0.75
    covered_texture: float = 1.0
    dark_luma: float = 45.0  # mean luma below this (with texture): too dark
    grid_width: int = 80  # brightness/texture are measured on a grid of block means this wide
    alerts: AlertOptions = field(default_factory=AlertOptions)


@dataclass(frozen=True)
class FrameObservation:
    t: float
    width: int  # of the frame as received
    height: int
    face_count: int
    box: tuple[int, int, int, int] | None  # the main (largest) face, in the received frame's pixels
    pose: PoseSample | None  # of the main face: feed it to the liveness challenge
    roll: float | None
    brightness: float  # mean luma 0..255
    texture: float  # mean absolute luma gradient (see LiveOptions.covered_texture)
    covered: bool
    dark: bool
    identity_distance: float | None  # main face ↔ reference; None without either
    identity_fresh: bool  # the distance was computed on this frame (not reused)
    conditions: frozenset[AlertCode]  # what holds in this frame
    alerts: tuple[AlertCode, ...]  # active alerts after debouncing, most important first
    events: tuple[AlertEvent, ...]  # alerts raised / repeated / cleared by this frame
    error: str | None = None  # the face engine failed on this frame (no face alerts from it)

    def to_dict(self) -> dict[str, Any]:
        pose = self.pose
        return {
            "t": round(self.t, 3),
            "width": self.width,
            "height": self.height,
            "face_count": self.face_count,
            "box": list(self.box) if self.box else None,
            "pose": None
            if pose is None
            else {
                "yaw": round(pose.yaw, 2),
                "pitch": round(pose.pitch, 2),
                "ear": None if pose.ear is None else round(pose.ear, 4),
            },
            "roll": None if self.roll is None else round(self.roll, 2),
            "brightness": round(self.brightness, 1),
            "texture": round(self.texture, 2),
            "covered": self.covered,
            "dark": self.dark,
            "identity_distance": None if self.identity_distance is None else round(self.identity_distance, 4),
            "identity_fresh": self.identity_fresh,
            "conditions": sorted(str(c) for c in self.conditions),
            "alerts": [str(a) for a in self.alerts],
            "events": [e.to_dict() for e in self.events],
            "error": self.error,
        }


@dataclass
class _Identity:
    t: float
    box: tuple[int, int, int, int]
    distance: float
    patch: npt.NDArray[np.float32] | None = None  # appearance when the descriptor was computed


_PATCH = 32
# where the eye centres and the mouth centre land in the aligned patch
_PATCH_DST = np.array([[8.0, 10.0], [24.0, 10.0], [16.0, 26.0]], dtype=np.float32)


def face_patch(image: Image, face: Face) -> npt.NDArray[np.float32] | None:
    """The face's appearance for cheap change detection: a 32×32 grey patch aligned on the eye
    and mouth centres (68 landmarks), blurred, zero mean, unit norm (flattened); the correlation
    of two patches (their dot product) is ~1 for the same face and drops when the face changes.
    None without 68 landmarks or for a degenerate face."""
    if len(face.landmarks) < 68:
        return None
    cv2 = _cv2()
    p = np.asarray(face.landmarks, dtype=np.float32)
    src = np.stack([p[36:42].mean(axis=0), p[42:48].mean(axis=0), p[48:68].mean(axis=0)])
    if float(np.linalg.norm(src[1] - src[0])) < 4.0:
        return None
    m = cv2.getAffineTransform(src, _PATCH_DST)
    # only the face's neighbourhood is converted to grey
    h, w = image.shape[:2]
    x0, y0 = max(0, int(p[:, 0].min()) - 8), max(0, int(p[:, 1].min()) - 8)
    x1, y1 = min(w, int(p[:, 0].max()) + 9), min(h, int(p[:, 1].max()) + 9)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    m[:, 2] += m[:, 0] * x0 + m[:, 1] * y0  # the crop's origin
    patch = cv2.warpAffine(grey, m, (_PATCH, _PATCH), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    vec = cv2.GaussianBlur(patch, (3, 3), 0).astype(np.float32).reshape(-1)
    vec -= vec.mean()
    norm = float(np.linalg.norm(vec))
    if norm < 1e-3:
        return None
    out: npt.NDArray[np.float32] = vec / norm
    return out


def _shifted(face: Face, dx: int, dy: int) -> Face:
    if dx == 0 and dy == 0:
        return face
    box = (face.box[0] + dx, face.box[1] + dy, face.box[2] + dx, face.box[3] + dy)
    return Face(box, face.score, tuple((x + dx, y + dy) for x, y in face.landmarks))


def _as_rgb(image: Image | None) -> Image | None:
    """RGB uint8 (H, W, 3) from what a caller may hand over; None for no/empty picture."""
    if image is None:
        return None
    arr = np.asarray(image)
    if arr.size == 0 or arr.ndim not in (2, 3):
        return None
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    elif arr.shape[2] != 3:
        return None
    out: Image = np.ascontiguousarray(arr)
    return out


class LiveFrameAnalyzer:
    """One per live session (it remembers the session's alerts and identity distances). Calls on
    one instance are serialised by a lock; create one per session."""

    def __init__(self, faces: FaceAnalyzer, options: LiveOptions | None = None) -> None:
        self.faces = faces
        self.options = options or LiveOptions()
        self.debouncer = AlertDebouncer(self.options.alerts)
        self._reference: npt.NDArray[np.float64] | None = None
        self._identity: _Identity | None = None
        self._last_faces: list[Face] = []  # of the last detection, in analysed-image pixels
        self._last_full = -math.inf  # when the whole picture was last searched
        self._last_size: tuple[int, ...] = ()
        self._lock = threading.Lock()

    def set_reference(self, embedding: npt.ArrayLike | None) -> None:
        """The verified customer's 128-D descriptor (None: no identity check)."""
        with self._lock:
            if embedding is None:
                self._reference = None
            else:
                ref = np.asarray(embedding, dtype=np.float64).reshape(-1)
                if ref.size == 0 or not np.all(np.isfinite(ref)):
                    raise InvalidInputError(msg("pipeline.invalid_reference_face_descriptor"))
                self._reference = ref
            self._identity = None

    def analyze(self, image: Image | None, t: float, *, identity: bool = False) -> FrameObservation:
        """Analyse one frame at ``t`` (seconds on the session's clock). ``identity=True`` (an
        identity step): compute the main face's descriptor on this frame whatever the schedule."""
        with self._lock:
            return self._analyze(image, t, identity)

    # ---- internals

    def _analyze(self, image: Image | None, t: float, force_identity: bool = False) -> FrameObservation:
        o = self.options
        rgb = _as_rgb(image)
        if rgb is None:  # nothing to look at: the customer cannot be seen
            self._identity, self._last_faces = None, []
            nothing = frozenset({AlertCode.NO_FACE})
            events = tuple(self.debouncer.update(t, nothing))
            return FrameObservation(
                t=t,
                width=0,
                height=0,
                face_count=0,
                box=None,
                pose=None,
                roll=None,
                brightness=0.0,
                texture=0.0,
                covered=False,
                dark=False,
                identity_distance=None,
                identity_fresh=False,
                conditions=nothing,
                alerts=self.debouncer.active,
                events=events,
            )
        height, width = rgb.shape[:2]
        small, scale = self._downscaled(rgb)
        brightness, texture = self._luma_stats(small)
        covered = brightness < o.covered_luma and texture < o.covered_texture
        dark = brightness < o.dark_luma and not covered
        faces: list[Face] = []
        error = None
        if covered or small.shape[:2] != self._last_size:
            self._last_faces = []  # search the whole picture next time
        self._last_size = small.shape[:2]
        if not covered:  # a covered lens shows no face: skip the detector
            try:
                faces = self._detect(small, t)
            except Exception as exc:  # the engine broke: say so, do not blame the customer
                logger.warning("live face detection failed at %.2fs", t, exc_info=True)
                self._last_faces = []
                error = f"人脸检测出错 / face detection failed: {exc}"
        detected = error is None
        main = faces[0] if faces else None
        pose = roll = None
        distance, fresh = None, False
        if main is None:
            self._identity = None
        else:
            angles = head_pose(main, (small.shape[1], small.shape[0]))
            if angles is not None:
                pose = PoseSample(t, angles[0], angles[1], eye_aspect_ratio(main))
                roll = angles[2]
            if self._reference is not None:
                distance, fresh, err = self._distance(small, main, t, force_identity)
                error = error or err
        conditions: set[AlertCode] = set()
        if covered:
            conditions.add(AlertCode.COVERED)
        elif dark:
            conditions.add(AlertCode.DARK)
        if detected:  # a broken engine is not the customer's fault
            if not faces and not covered and not dark:
                conditions.add(AlertCode.NO_FACE)
            if len(faces) > 1:
                conditions.add(AlertCode.MULTIPLE_FACES)
        if distance is not None and distance > o.identity_max_distance:
            conditions.add(AlertCode.NOT_CUSTOMER)
        events = tuple(self.debouncer.update(t, conditions))
        box = None
        if main is not None:
            box = (
                min(width, max(0, round(main.box[0] / scale))),
                min(height, max(0, round(main.box[1] / scale))),
                min(width, max(0, round(main.box[2] / scale))),
                min(height, max(0, round(main.box[3] / scale))),
            )
        return FrameObservation(
            t=t,
            width=width,
            height=height,
            face_count=len(faces),
            box=box,
            pose=pose,
            roll=roll,
            brightness=brightness,
            texture=texture,
            covered=covered,
            dark=dark,
            identity_distance=distance,
            identity_fresh=fresh,
            conditions=frozenset(conditions),
            alerts=self.debouncer.active,
            events=events,
            error=error,
        )

    def _detect(self, img: Image, t: float) -> list[Face]:
        """Faces in ``img``: around the last faces when the whole picture was searched less than
        ``full_detect_interval_s`` ago and the search finds them all again, else in the whole
        picture. Landmarks are always found at the analysed resolution."""
        o = self.options
        h, w = img.shape[:2]
        found: list[Face] | None = None
        last = self._last_faces
        if o.roi_detect and last and t - self._last_full < o.full_detect_interval_s - 0.1:
            size = max(max(f.width, f.height) for f in last)
            m = o.roi_margin * size
            x0 = max(0, int(min(f.box[0] for f in last) - m))
            y0 = max(0, int(min(f.box[1] for f in last) - m))
            x1 = min(w, math.ceil(max(f.box[2] for f in last) + m))
            y1 = min(h, math.ceil(max(f.box[3] for f in last) + m))
            if (x1 - x0) * (y1 - y0) < 0.8 * w * h:
                min_face = None
                if o.roi_min_face:
                    min_face = max(8, round(o.roi_min_face * min(f.width for f in last)))
                crop = self.faces.detect(np.ascontiguousarray(img[y0:y1, x0:x1]), min_face=min_face)
                if len(crop) >= len(last):  # one missing may have moved out: search everywhere
                    found = [_shifted(f, x0, y0) for f in crop]
        if found is None:
            found = self.faces.detect(img, min_face=o.full_min_face)
            self._last_full = t
        self._last_faces = found
        return found

    def _downscaled(self, rgb: Image) -> tuple[Image, float]:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.options.max_side / max(h, w))
        if scale >= 1.0:
            return rgb, 1.0
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        cv2 = _cv2()
        small: Image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        return small, scale

    def _luma_stats(self, rgb: Image) -> tuple[float, float]:
        """(mean luma, mean absolute difference between neighbouring cells) on a grid of block
        means about ``grid_width`` wide: block means keep the sensor noise of a covered lens out
        of the texture measure."""
        h, w = rgb.shape[:2]
        gw = max(1, min(w, self.options.grid_width))
        gh = max(1, min(h, round(h * gw / w)))
        small = rgb if (gw, gh) == (w, h) else _cv2().resize(rgb, (gw, gh), interpolation=_cv2().INTER_AREA)
        grid = small.astype(np.float32) @ _LUMA
        mean = float(grid.mean())
        grads = []
        if grid.shape[1] > 1:
            grads.append(float(np.abs(np.diff(grid, axis=1)).mean()))
        if grid.shape[0] > 1:
            grads.append(float(np.abs(np.diff(grid, axis=0)).mean()))
        return mean, (sum(grads) / len(grads) if grads else 0.0)

    def _distance(
        self, img: Image, face: Face, t: float, force: bool = False
    ) -> tuple[float | None, bool, str | None]:
        o = self.options
        ref, last = self._reference, self._identity
        assert ref is not None
        patch = face_patch(img, face) if o.embed_on_change > 0 else None
        if (
            not force
            and last is not None
            and t - last.t < o.embed_interval_s
            and not self._jumped(last.box, face.box)
            and not self._changed(last.patch, patch)
        ):
            return last.distance, False, None
        try:
            vec = np.asarray(self.faces.embed(img, face), dtype=np.float64).reshape(-1)
        except Exception as exc:
            logger.warning("live face embedding failed at %.2fs", t, exc_info=True)
            return None, False, f"人脸特征提取出错 / face embedding failed: {exc}"
        if vec.shape != ref.shape:
            return None, False, f"人脸特征维度不符 / descriptor size {vec.size} ≠ reference {ref.size}"
        distance = float(np.linalg.norm(vec - ref))
        self._identity = _Identity(t, face.box, distance, patch)
        return distance, True, None

    def _changed(self, before: npt.NDArray[np.float32] | None, now: npt.NDArray[np.float32] | None) -> bool:
        """The face looks different from when its descriptor was computed (unknown when either
        patch could not be measured: the periodic re-verification covers that)."""
        if before is None or now is None:
            return False
        return float(before @ now) < self.options.embed_on_change

    def _jumped(self, a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
        wa, wb = max(1, a[2] - a[0]), max(1, b[2] - b[0])
        dx = (a[0] + a[2] - b[0] - b[2]) / 2
        dy = (a[1] + a[3] - b[1] - b[3]) / 2
        limit = self.options.embed_jump
        return math.hypot(dx, dy) > limit * wa or abs(wb / wa - 1) > limit
