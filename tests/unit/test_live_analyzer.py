"""The live frame analyser with a synthetic face engine: pose from landmarks, alerts, the identity
schedule, odd frames; and frame decoding of what a page may send."""

from __future__ import annotations

import io
import math
import random
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image as PILImage

from dualrec.core.live_alerts import AlertCode
from dualrec.errors import InvalidInputError
from dualrec.media.ports import Face, Image
from dualrec.pipeline.live import (
    FrameLimits,
    LiveFrameAnalyzer,
    LiveOptions,
    decode_frame,
    eye_aspect_ratio,
    head_pose,
)

# A test head (mm; x right, y down, z away from the camera, nose tip at 0), deliberately not the
# analyser's generic model: wider, longer chin, other depths.
HEAD = {
    8: (0, 102, 36),
    17: (-62, -42, 38),
    26: (62, -42, 38),
    21: (-14, -50, 20),
    22: (14, -50, 20),
    27: (0, -36, 21),
    30: (0, 0, 0),
    33: (0, 16, 15),
    48: (-30, 40, 30),
    54: (30, 40, 30),
}
EYE_Y, EYE_Z_OUT, EYE_Z_IN = -31.0, 42.0, 28.0
EYES = ((-47.0, -19.0), (19.0, 47.0))  # (outer/inner x) of the image-left eye, (inner/outer) right


def head_points(ear: float) -> np.ndarray:
    pts = np.zeros((68, 3))
    pts[:] = HEAD[30]
    for i, p in HEAD.items():
        pts[i] = p
    for first, (x0, x3) in zip((36, 42), EYES, strict=True):
        z0, z3 = (EYE_Z_OUT, EYE_Z_IN) if first == 36 else (EYE_Z_IN, EYE_Z_OUT)
        gap = ear * abs(x3 - x0)
        for k, (frac, dy) in enumerate(((0, 0), (1 / 3, -gap / 2), (2 / 3, -gap / 2), (1, 0))):
            pts[first + k] = (x0 + frac * (x3 - x0), EYE_Y + dy, z0 + frac * (z3 - z0))
        pts[first + 4] = (x0 + 2 / 3 * (x3 - x0), EYE_Y + gap / 2, z0 + 2 / 3 * (z3 - z0))
        pts[first + 5] = (x0 + 1 / 3 * (x3 - x0), EYE_Y + gap / 2, z0 + 1 / 3 * (z3 - z0))
    return pts


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """+yaw turns the nose towards the image's right, +pitch moves it down (chin down)."""
    a, b = math.radians(yaw), math.radians(pitch)
    ry = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return ry @ rx


@dataclass
class Head:
    cx: float  # where the nose tip is, in pixels
    cy: float
    eye_px: float = 80.0  # outer eye corners apart when frontal
    yaw: float = 0.0  # relative to looking at the camera
    pitch: float = 0.0
    ear: float = 0.3
    person: int = 1


def project(head: Head, size: tuple[int, int]) -> Face:
    w, h = size
    f = float(max(w, h))
    depth = f * 94.0 / head.eye_px  # the test head's outer eye corners are 94 mm apart
    ray = np.array([(head.cx - w / 2) / f, (head.cy - h / 2) / f, 1.0])
    ray /= np.linalg.norm(ray)
    # face the camera (rotate the z axis onto the ray), then turn by yaw/pitch
    axis = np.cross([0.0, 0.0, 1.0], ray)
    s = float(np.linalg.norm(axis))
    to_ray = np.eye(3)
    if s > 1e-9:
        k = axis / s
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        angle = math.asin(min(1.0, s))
        to_ray = np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx
    # heads turn about a point 9 cm behind the nose tip; looking at the camera, both are on the ray
    pivot = np.array([0.0, 0.0, 90.0])
    pts = (head_points(head.ear) - pivot) @ (to_ray @ rotation(head.yaw, head.pitch)).T + ray * (depth + 90)
    uv = pts[:, :2] / pts[:, 2:3] * f + np.array([w / 2, h / 2])
    box = (
        int(uv[:, 0].min() - 10),
        int(uv[:, 1].min() - 30),
        int(uv[:, 0].max() + 10),
        int(uv[:, 1].max() + 5),
    )
    return Face(box, 1.0, tuple((float(x), float(y)) for x, y in uv))


class SyntheticFaces:
    """A FaceAnalyzer that 'sees' the heads the test puts in ``scene`` and embeds each person as a
    unit vector of its own. ``frame()`` renders a picture with a small marker at each head (colour
    255, 0, head number); ``detect`` finds the markers in whatever it is given (the whole picture
    or a crop of it) and returns the heads' landmarks in the given image's pixels."""

    def __init__(self) -> None:
        self.scene: list[Head] = []  # in the analysed picture's pixels (at most 640 wide/high)
        self.size = (640, 480)  # of the analysed picture
        self.detect_sizes: list[tuple[int, int]] = []
        self.min_faces: list[int | None] = []
        self.embeds = 0
        self.fail = False
        self.fail_embed = False

    def frame(self, w: int = 640, h: int = 480, level: int = 120, seed: int = 0) -> Image:
        img = scene_image(w, h, level, seed)
        k = max(1, math.ceil(max(w, h) / 640))
        self.size = (w // k, h // k)
        for n, head in enumerate(self.scene, start=1):
            x, y = round(head.cx) * k, round(head.cy) * k
            img[y - 3 * k : y + 3 * k, x - 3 * k : x + 3 * k] = (255, 0, n)
        return img

    def detect(self, image: Image, *, min_face: int | None = None) -> list[Face]:
        if self.fail:
            raise RuntimeError("engine crashed")
        h, w = image.shape[:2]
        self.detect_sizes.append((w, h))
        self.min_faces.append(min_face)
        faces = []
        self._people: dict[tuple[int, int, int, int], int] = {}
        for n, head in enumerate(self.scene, start=1):
            ys, xs = np.nonzero((image[:, :, 0] == 255) & (image[:, :, 1] == 0) & (image[:, :, 2] == n))
            if len(xs) < 9:
                continue
            dx, dy = round(head.cx) - round(xs.mean() - 0.5), round(head.cy) - round(ys.mean() - 0.5)
            full = project(head, self.size)
            face = Face(
                (full.box[0] - dx, full.box[1] - dy, full.box[2] - dx, full.box[3] - dy),
                1.0,
                tuple((x - dx, y - dy) for x, y in full.landmarks),
            )
            self._people[face.box] = head.person
            faces.append(face)
        return sorted(faces, key=lambda f: f.width * f.height, reverse=True)

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        if self.fail_embed:
            raise RuntimeError("descriptor model missing")
        self.embeds += 1
        vec = np.zeros(128)
        who = self._people.get(face.box)
        if who is None:  # found in a crop (boxes in the crop's pixels there): the nearest head
            nose = face.landmarks[30]
            who = min(self.scene, key=lambda h: math.hypot(h.cx - nose[0], h.cy - nose[1])).person
        vec[who] = 1.0
        return vec


def person(n: int) -> np.ndarray:
    vec = np.zeros(128)
    vec[n] = 1.0
    return vec


def scene_image(w: int = 640, h: int = 480, level: int = 120, seed: int = 0) -> Image:
    """A textured, normally lit picture (the fake engine decides what faces are in it)."""
    rng = np.random.default_rng(seed)
    return rng.integers(max(0, level - 60), min(255, level + 60), (h, w, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------------- head pose


@pytest.mark.parametrize("where", [(320, 240), (120, 100), (540, 400)])
@pytest.mark.parametrize("yaw,pitch", [(0, 0), (20, 0), (-20, 0), (0, 15), (0, -15), (15, 10), (-25, -10)])
def test_head_pose_recovers_turns_anywhere_in_the_picture(
    where: tuple[int, int], yaw: float, pitch: float
) -> None:
    face = project(Head(*where, yaw=yaw, pitch=pitch), (640, 480))
    angles = head_pose(face, (640, 480))
    assert angles is not None
    assert angles[0] == pytest.approx(yaw, abs=3.5)
    assert angles[1] == pytest.approx(pitch, abs=3.5)
    assert abs(angles[2]) < 3


def test_sliding_across_the_picture_is_not_a_turn() -> None:
    yaws = [head_pose(project(Head(x, 240), (640, 480)), (640, 480)) for x in range(80, 600, 40)]
    assert all(a is not None and abs(a[0]) < 2 and abs(a[1]) < 3 for a in yaws)


def test_pose_and_eyes_need_68_landmarks() -> None:
    bare = Face((10, 10, 100, 100))
    assert head_pose(bare, (640, 480)) is None
    assert eye_aspect_ratio(bare) is None


@pytest.mark.parametrize("ear", [0.1, 0.2, 0.3, 0.4])
def test_eye_aspect_ratio(ear: float) -> None:
    assert eye_aspect_ratio(project(Head(320, 240, ear=ear), (640, 480))) == pytest.approx(ear, rel=0.1)


# ---------------------------------------------------------------------------------- alerts


def run_frames(
    an: LiveFrameAnalyzer, faces: SyntheticFaces, scenes: list[list[Head]], fps: float = 2.0
) -> list[tuple[float, list[tuple[str, str]]]]:
    out = []
    for i, scene in enumerate(scenes):
        faces.scene = scene
        obs = an.analyze(faces.frame(seed=i), i / fps)
        out.append((obs.t, [(str(e.code), e.kind) for e in obs.events]))
    return out


def test_face_leaving_the_frame_is_prompted_within_two_seconds() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    timeline = run_frames(an, faces, [[Head(320, 240)]] * 6 + [[]] * 6)  # gone from t = 3.0
    raised = [t for t, evs in timeline if ("no_face", "raised") in evs]
    assert raised == [4.0]
    assert raised[0] - 2.5 <= 2.0  # 2.5: the last frame with the face


def test_a_second_face_and_a_stranger_are_alerts() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    an.set_reference(person(1))
    me, other = Head(250, 240, person=1), Head(480, 200, eye_px=60, person=2)
    timeline = run_frames(an, faces, [[me]] * 4 + [[me, other]] * 4 + [[Head(250, 240, person=3)]] * 8)
    events = [(t, e) for t, evs in timeline for e in evs]
    assert (3.0, ("multiple_faces", "raised")) in events
    stranger = [t for t, e in events if e == ("not_customer", "raised")]
    # the stranger sits where the customer sat: caught at the next scheduled embedding (3 s)
    assert stranger and stranger[0] <= 4.0 + 3.0 + 1.0
    assert not any(e == ("not_customer", "raised") and t < 4.0 for t, e in events)


def test_identity_is_embedded_on_a_schedule_and_when_the_face_jumps() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces, LiveOptions(embed_interval_s=3.0))
    an.set_reference(person(1))
    fresh = []
    for i in range(20):  # 10 s, face still: embedded at 0, 3, 6, 9
        faces.scene = [Head(320, 240)]
        obs = an.analyze(faces.frame(), i / 2)
        fresh.append(obs.identity_fresh)
        assert obs.identity_distance == 0.0
    assert faces.embeds == 4 and [i / 2 for i, f in enumerate(fresh) if f] == [0.0, 3.0, 6.0, 9.0]
    faces.scene = [Head(520, 240)]  # jumped 200 px (> half a face width)
    assert an.analyze(faces.frame(), 10.0).identity_fresh
    faces.scene = []
    an.analyze(faces.frame(), 10.5)
    faces.scene = [Head(520, 240)]  # lost and back: embedded again
    assert an.analyze(faces.frame(), 11.0).identity_fresh
    an.set_reference(None)
    obs = an.analyze(faces.frame(), 11.5)
    assert obs.identity_distance is None and faces.embeds == 6


def test_between_full_searches_only_the_region_around_the_face_is_searched() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    faces.scene = [Head(320, 240)]
    for i in range(8):
        an.analyze(faces.frame(), i / 2)
    full = [i / 2 for i, size in enumerate(faces.detect_sizes) if size == (640, 480)]
    assert full == [0.0, 1.0, 2.0, 3.0]  # every second frame at 2 frames/s
    assert all(w * h < 0.5 * 640 * 480 for w, h in faces.detect_sizes if (w, h) != (640, 480))


def test_a_second_face_outside_the_region_is_prompted_within_two_seconds() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    me = Head(200, 240)
    timeline = run_frames(an, faces, [[me]] * 5 + [[me, Head(540, 150, eye_px=60, person=2)]] * 6)
    raised = [t for t, evs in timeline if ("multiple_faces", "raised") in evs]
    assert raised and raised[0] - 2.5 <= 2.0  # it appeared at 2.5


def test_a_face_that_moves_out_of_the_region_is_found_in_the_same_frame() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    faces.scene = [Head(150, 240)]
    an.analyze(faces.frame(), 0.0)
    faces.scene = [Head(500, 240)]
    obs = an.analyze(faces.frame(), 0.5)  # searched around 150 first, then everywhere
    assert obs.face_count == 1 and obs.box is not None and obs.box[0] > 400
    assert faces.detect_sizes[-1] == (640, 480) and faces.detect_sizes[-2] != (640, 480)


def test_covered_and_dark_frames() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    black = np.zeros((480, 640, 3), np.uint8)
    obs = [an.analyze(black, i / 2) for i in range(3)]
    assert obs[-1].covered and obs[-1].alerts == (AlertCode.COVERED,)
    assert faces.detect_sizes == []  # nothing to detect behind a covered lens
    rng = np.random.default_rng(0)
    noisy_black = rng.normal(12, 5, (480, 640, 3)).clip(0, 255).astype(np.uint8)  # sensor noise
    assert an.analyze(noisy_black, 2.0).covered

    an = LiveFrameAnalyzer(faces)
    faces.scene = [Head(320, 240)]
    dim = faces.frame(level=30)  # a dim room: dark, but with texture, and a face in it
    obs = [an.analyze(dim, i / 2) for i in range(3)]
    assert obs[-1].dark and not obs[-1].covered and obs[-1].face_count == 1
    assert obs[-1].alerts == (AlertCode.DARK,)

    lit = an.analyze(faces.frame(), 1.5)
    assert not lit.dark and not lit.covered and lit.brightness > 100


def test_engine_failure_is_reported_not_blamed_on_the_customer() -> None:
    faces = SyntheticFaces()
    faces.fail = True
    an = LiveFrameAnalyzer(faces)
    obs = [an.analyze(faces.frame(), i / 2) for i in range(6)]
    assert all(o.error and "engine crashed" in o.error for o in obs)
    assert obs[-1].alerts == () and obs[-1].face_count == 0

    faces = SyntheticFaces()
    faces.fail_embed = True
    an = LiveFrameAnalyzer(faces)
    an.set_reference(person(1))
    timeline = run_frames(an, faces, [[Head(200, 240), Head(500, 240, person=2)]] * 4)
    assert [e for _, evs in timeline for e in evs] == [("multiple_faces", "raised")]
    obs = an.analyze(faces.frame(), 2.0)
    assert obs.error and "descriptor model missing" in obs.error and obs.identity_distance is None


# ---------------------------------------------------------------------------------- odd frames


def test_large_frames_are_analysed_downscaled_with_boxes_in_frame_pixels() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    faces.scene = [Head(320, 180, eye_px=60)]  # in the analysed (640×360) picture
    obs = an.analyze(faces.frame(3840, 2160), 0.0)
    assert faces.detect_sizes == [(640, 360)]
    assert obs.width == 3840 and obs.height == 2160
    assert obs.box is not None and 6 * 200 < obs.box[0] < 6 * 320 < obs.box[2] < 6 * 440
    assert obs.pose is not None and abs(obs.pose.yaw) < 3


@pytest.mark.parametrize(
    "frame",
    [
        np.full((480, 640), 128, np.uint8),  # grey, 2-D
        np.full((480, 640, 1), 128, np.uint8),
        np.full((480, 640, 4), 128, np.uint8),  # RGBA
        np.full((1, 1, 3), 128, np.uint8),
        np.full((480, 640, 3), 128.0),  # float
    ],
    ids=["grey", "grey-1ch", "rgba", "1x1", "float"],
)
def test_odd_frames_are_analysed(frame: Image) -> None:
    faces = SyntheticFaces()
    obs = LiveFrameAnalyzer(faces).analyze(frame, 0.0)
    assert obs.face_count == 0 and obs.width == frame.shape[1]
    assert len(faces.detect_sizes) <= 1


@pytest.mark.parametrize(
    "frame",
    [None, np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 5), np.uint8)],
    ids=["none", "empty", "5ch"],
)
def test_no_picture_means_the_face_is_not_seen(frame: Image | None) -> None:
    an = LiveFrameAnalyzer(SyntheticFaces())
    obs = [an.analyze(frame, i / 2) for i in range(3)]
    assert obs[-1].alerts == (AlertCode.NO_FACE,) and obs[-1].width == 0
    assert obs[-1].to_dict()["alerts"] == ["no_face"]


def test_observation_serialises() -> None:
    faces = SyntheticFaces()
    faces.scene = [Head(320, 240, yaw=10)]
    an = LiveFrameAnalyzer(faces)
    an.set_reference(person(1))
    d = an.analyze(faces.frame(), 0.0).to_dict()
    assert d["face_count"] == 1 and d["identity_distance"] == 0.0 and d["pose"]["yaw"] > 5
    with pytest.raises(InvalidInputError):
        an.set_reference([float("nan")] * 128)


# ---------------------------------------------------------------------------------- decoding


def encoded(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    PILImage.new(mode, size, 90 if mode == "L" else (200, 100, 50)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_decodes_what_browsers_send(fmt: str) -> None:
    img = decode_frame(encoded(fmt))
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert abs(int(img[0, 0, 0]) - 200) < 8


def test_grey_and_transparent_frames_become_rgb() -> None:
    assert decode_frame(encoded("PNG", mode="L")).shape == (48, 64, 3)
    assert decode_frame(encoded("PNG", mode="RGBA")).shape == (48, 64, 3)


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024), "too large"),
        (b"hello, this is not a picture", "not a readable"),
        (encoded("GIF"), "not a readable"),
        (encoded("BMP"), "not a readable"),
        (png_header_only(30000, 30000), "exceed"),  # a decompression bomb: refused from its header
        (png_header_only(5000, 10), "exceed"),
        (encoded("JPEG", (640, 480))[:-200], "corrupt"),  # truncated
        (png_header_only(64, 48), "corrupt"),  # too little pixel data
    ],
    ids=["empty", "huge", "text", "gif", "bmp", "bomb", "wide", "truncated-jpeg", "short-png"],
)
def test_bad_frames_are_refused_cleanly(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        decode_frame(data)


def test_limits_are_options_and_non_bytes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="too large"):
        decode_frame(encoded("PNG"), FrameLimits(max_bytes=50))
    with pytest.raises(InvalidInputError, match="exceed"):
        decode_frame(encoded("PNG"), FrameLimits(max_side=32))
    with pytest.raises(InvalidInputError, match="bytes"):
        decode_frame("not bytes")  # type: ignore[arg-type]
    assert decode_frame(bytearray(encoded("PNG"))).shape == (48, 64, 3)


def test_damaged_jpegs_never_raise_anything_else() -> None:
    good = encoded("JPEG", (320, 240))
    rng = random.Random(7)
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        try:
            img = decode_frame(bytes(data))
            assert img.ndim == 3 and img.shape[2] == 3
            outcomes["decoded"] += 1
        except InvalidInputError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and outcomes["decoded"] > 0


def test_an_identity_step_asks_for_a_descriptor_on_the_frame() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    an.set_reference(person(1))
    faces.scene = [Head(320, 240)]
    assert an.analyze(faces.frame(), 0.0).identity_fresh  # a new track
    assert not an.analyze(faces.frame(), 0.5).identity_fresh  # reused: nothing changed
    assert an.analyze(faces.frame(), 1.0, identity=True).identity_fresh
    assert not an.analyze(faces.frame(), 1.5).identity_fresh
    assert faces.embeds == 2


def test_the_region_is_searched_on_a_copy_scaled_for_the_tracked_face() -> None:
    faces = SyntheticFaces()
    an = LiveFrameAnalyzer(faces)
    faces.scene = [Head(320, 240)]
    first = an.analyze(faces.frame(), 0.0)
    assert first.box is not None
    width = first.box[2] - first.box[0]
    an.analyze(faces.frame(), 0.5)  # a region search
    assert faces.min_faces[0] is None  # the full search: the engine's default scale
    assert faces.min_faces[1] == round(0.7 * width)
    an = LiveFrameAnalyzer(faces, LiveOptions(roi_min_face=None))
    an.analyze(faces.frame(), 0.0)
    an.analyze(faces.frame(), 0.5)
    assert faces.min_faces[-1] is None
