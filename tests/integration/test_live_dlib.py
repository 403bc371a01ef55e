"""Live analysis with the real dlib engine on frame sequences built from the shared face photos.

Frames go the way the page sends them: encoded as JPEG, decoded by ``decode_frame``, analysed by
``LiveFrameAnalyzer``; the poses feed the liveness trackers. Head motion is simulated by
``tests.live_frames.turn_head`` (a 3-D head surface rotated and re-projected); a printed photo
tilted in front of the camera by ``tilt_photo`` (a flat plane rotated: a homography). Blinks
cannot be made from still photos; they are tested on landmark sequences in the unit tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from dualrec.core.live_alerts import AlertCode
from dualrec.core.liveness import Action, LivenessChallenge, LivenessTracker
from dualrec.media.models.dlib_faces import DlibFaceAnalyzer
from dualrec.media.ports import Face, Image
from dualrec.pipeline.live import FrameObservation, LiveFrameAnalyzer, LiveOptions, decode_frame, face_patch
from tests.live_frames import framed, jpeg, photo, tilt_photo, turn_head

FPS = 2.0
# a slow movement out to ±15° and back, at 2 frames/s, with still frames before and after
OUT_AND_BACK = (0, 0, 5, 10, 15, 10, 5, 0, 0)


@pytest.fixture(scope="module")
def faces() -> DlibFaceAnalyzer:
    analyzer = DlibFaceAnalyzer()
    analyzer.load()
    return analyzer


def camera_frame(faces: DlibFaceAnalyzer, name: str) -> tuple[Image, Face]:
    """A 640×480 frame cut around the photo's face, and that face as detected in it."""
    img = photo(name)
    found = faces.detect(img)
    assert found, name
    frame = framed(img, found[0])
    found = faces.detect(frame)
    assert len(found) == 1, name
    return frame, found[0]


def observe(
    faces: DlibFaceAnalyzer, frames: Sequence[Image], t0: float = 0.0, **kw: object
) -> list[FrameObservation]:
    an = kw.pop("analyzer", None) or LiveFrameAnalyzer(faces)
    assert isinstance(an, LiveFrameAnalyzer)
    return [an.analyze(decode_frame(jpeg(f)), t0 + i / FPS) for i, f in enumerate(frames)]


def judge(action: Action, observations: Sequence[FrameObservation]) -> LivenessTracker:
    tracker = LivenessTracker(action)
    for obs in observations:
        if obs.pose is not None and obs.face_count == 1:
            tracker.feed(obs.pose)
        else:
            tracker.no_face(obs.t)
    return tracker


@pytest.fixture(scope="module", params=["obama.jpg", "biden2.jpg"])
def head_moves(request: pytest.FixtureRequest, faces: DlibFaceAnalyzer) -> dict[str, list[FrameObservation]]:
    frame, face = camera_frame(faces, request.param)
    seqs = {
        "still": [frame] * 17,  # 8 s of a still photo
        "nod_down": [turn_head(frame, face, "x", d) for d in OUT_AND_BACK],
        "nod_up": [turn_head(frame, face, "x", -d) for d in OUT_AND_BACK],
        "shake_right": [turn_head(frame, face, "y", d) for d in OUT_AND_BACK],
        "shake_left": [turn_head(frame, face, "y", -d) for d in OUT_AND_BACK],
        "tilted_print_x": [
            tilt_photo(frame, face, "x", d) for d in (*OUT_AND_BACK, *(-d for d in OUT_AND_BACK))
        ],
        "tilted_print_y": [
            tilt_photo(frame, face, "y", d) for d in (*OUT_AND_BACK, *(-d for d in OUT_AND_BACK))
        ],
    }
    return {name: observe(faces, frames) for name, frames in seqs.items()}


@pytest.mark.parametrize("seq", ["nod_down", "nod_up"])
def test_a_nod_passes_nod_only(head_moves: dict[str, list[FrameObservation]], seq: str) -> None:
    obs = head_moves[seq]
    assert all(o.face_count == 1 and o.pose is not None for o in obs)
    pitches = [round(o.pose.pitch, 1) for o in obs if o.pose]
    assert judge(Action.NOD, obs).state == "passed", pitches
    assert judge(Action.SHAKE, obs).state != "passed", [round(o.pose.yaw, 1) for o in obs if o.pose]
    assert judge(Action.BLINK, obs).state != "passed"


@pytest.mark.parametrize("seq", ["shake_right", "shake_left"])
def test_a_head_shake_passes_shake_only(head_moves: dict[str, list[FrameObservation]], seq: str) -> None:
    obs = head_moves[seq]
    yaws = [round(o.pose.yaw, 1) for o in obs if o.pose]
    assert judge(Action.SHAKE, obs).state == "passed", yaws
    assert judge(Action.NOD, obs).state != "passed", [round(o.pose.pitch, 1) for o in obs if o.pose]
    assert judge(Action.BLINK, obs).state != "passed"


def test_a_still_photo_passes_nothing(head_moves: dict[str, list[FrameObservation]]) -> None:
    obs = head_moves["still"]
    for action in Action:
        tracker = judge(action, obs)
        assert tracker.state == "pending"
        tracker.no_face(8.5)
        assert tracker.state == "failed"


@pytest.mark.parametrize("seq", ["tilted_print_x", "tilted_print_y"])
def test_a_tilted_print_at_15_degrees_passes_nothing(
    head_moves: dict[str, list[FrameObservation]], seq: str
) -> None:
    # a flat picture rotated by ±15° shows a small fraction of a real head's pose change
    obs = head_moves[seq]
    for action in Action:
        assert judge(action, obs).state != "passed", [
            (round(o.pose.yaw, 1), round(o.pose.pitch, 1)) for o in obs if o.pose
        ]


def test_a_whole_challenge_through_the_analyser(faces: DlibFaceAnalyzer) -> None:
    frame, face = camera_frame(faces, "obama.jpg")
    frames = (
        [turn_head(frame, face, "y", d) for d in OUT_AND_BACK]  # shake: passes
        + [frame] * 17  # nothing: the nod runs out of time (8 s)
        + [turn_head(frame, face, "x", d) for d in OUT_AND_BACK]  # the nod asked again: passes
    )
    challenge = LivenessChallenge((Action.SHAKE, Action.NOD), retries=1)
    kinds = []
    for obs in observe(faces, frames):
        assert obs.pose is not None
        event = challenge.feed(obs.pose)
        if event:
            kinds.append((event.kind, event.result.action))
    assert kinds == [
        ("action_passed", Action.SHAKE),
        ("action_retry", Action.NOD),
        ("passed", Action.NOD),
    ]
    assert challenge.to_dict()["state"] == "passed"


# ---------------------------------------------------------------------------------- alerts


def alerts_raised(observations: Sequence[FrameObservation]) -> list[tuple[float, AlertCode]]:
    return [(o.t, e.code) for o in observations for e in o.events if e.kind == "raised"]


@pytest.fixture(scope="module")
def obama_reference(faces: DlibFaceAnalyzer) -> np.ndarray:
    img = photo("obama1.jpg")  # another photo of the same person
    return faces.embed(img, faces.detect(img)[0])


def test_the_customer_is_not_a_stranger_and_someone_else_is(
    faces: DlibFaceAnalyzer, obama_reference: np.ndarray
) -> None:
    obama, _ = camera_frame(faces, "obama.jpg")
    biden, _ = camera_frame(faces, "biden.jpg")  # cut so that his face is where obama's was
    # the periodic re-verification alone (appearance trigger off): embeddings every 3 s, or at once
    # when the face box jumps
    periodic = LiveOptions(embed_interval_s=3.0, embed_on_change=0)
    an = LiveFrameAnalyzer(faces, periodic)
    an.set_reference(obama_reference)
    customer = observe(faces, [obama] * 8, analyzer=an)
    assert all(o.identity_distance is not None and o.identity_distance < 0.6 for o in customer)
    assert [o.t for o in customer if o.identity_fresh] == [0.0, 3.0]
    assert alerts_raised(customer) == []
    # someone else takes the customer's place: seen at the next embedding (6.0), prompted 1 s later
    other = observe(faces, [biden] * 8, t0=4.0, analyzer=an)
    assert [o.t for o in other if o.identity_fresh] == [6.0]
    assert all(o.identity_distance is not None and o.identity_distance > 0.6 for o in other if o.t >= 6.0)
    assert alerts_raised(other) == [(7.0, AlertCode.NOT_CUSTOMER)]

    # ... or appears elsewhere in the picture: embedded at once
    an = LiveFrameAnalyzer(faces, periodic)
    an.set_reference(obama_reference)
    moved = cv2.warpAffine(
        biden, np.float32([[1, 0, -160], [0, 1, 0]]), (640, 480), borderMode=cv2.BORDER_REPLICATE
    )
    obs = observe(faces, [obama] * 4 + [moved] * 4, analyzer=an)
    assert obs[4].identity_fresh
    assert alerts_raised(obs) == [(3.0, AlertCode.NOT_CUSTOMER)]


def test_two_people_in_the_picture(faces: DlibFaceAnalyzer) -> None:
    img = photo("two_people.jpg")
    obs = observe(faces, [img] * 4)
    assert obs[0].face_count == 2
    assert alerts_raised(obs) == [(1.0, AlertCode.MULTIPLE_FACES)]


def test_a_covered_or_dark_camera(faces: DlibFaceAnalyzer) -> None:
    frame, _ = camera_frame(faces, "obama.jpg")
    black = np.zeros_like(frame)
    hand = cv2.GaussianBlur((frame * 0.12).astype(np.uint8), (0, 0), 25)  # a palm over the lens
    dim = (frame * 0.25).astype(np.uint8)  # the lights went down
    for picture, code in ((black, AlertCode.COVERED), (hand, AlertCode.COVERED), (dim, AlertCode.DARK)):
        obs = observe(faces, [picture] * 3)
        assert alerts_raised(obs) == [(1.0, code)], code
    assert observe(faces, [dim])[0].face_count == 1  # still seen in the dark


def test_the_face_leaving_the_picture_is_prompted_within_two_seconds(faces: DlibFaceAnalyzer) -> None:
    img = photo("obama.jpg")
    face = faces.detect(img)[0]
    frame = framed(img, face)
    # the room beside him: the part of the photo left of his face (flag, curtain), camera-sized
    background = cv2.resize(img[:, : face.box[0] - 20], (640, 480), interpolation=cv2.INTER_AREA)
    assert faces.detect(background) == []
    obs = observe(faces, [frame] * 4 + [background] * 5)  # the face is gone from t = 2.0
    assert alerts_raised(obs) == [(3.0, AlertCode.NO_FACE)]
    assert 3.0 - 1.5 <= 2.0  # 1.5: the last frame with the face


def moving(faces: DlibFaceAnalyzer, name: str, n: int) -> list[Image]:
    """``n`` frames of the photo's face turning a little (±8°) and drifting a few pixels, as a
    customer in front of a phone does."""
    frame, face = camera_frame(faces, name)
    angles = (0, 4, 8, 4, 0, -4, -8, -4)
    out = []
    for i in range(n):
        turned = turn_head(frame, face, "y" if i % 2 else "x", angles[i % len(angles)])
        shift = np.float32([[1, 0, 3 * (i % 3) - 3], [0, 1, 2 * (i % 2)]])
        out.append(cv2.warpAffine(turned, shift, (640, 480), borderMode=cv2.BORDER_REPLICATE))
    return out


def test_a_swap_in_place_is_caught_at_once_though_most_frames_skip_the_descriptor(
    faces: DlibFaceAnalyzer, obama_reference: np.ndarray
) -> None:
    """Default options: person A (the customer) for 13.5 s, then person B cut so that his face is
    where A's was (no box jump, no lost face), moving the same way, 4.5 s before the next periodic
    re-verification (at 18 s)."""
    an = LiveFrameAnalyzer(faces)
    an.set_reference(obama_reference)
    customer = observe(faces, moving(faces, "obama.jpg", 27), analyzer=an)
    assert all(o.face_count == 1 for o in customer)
    assert all(o.identity_distance is not None and o.identity_distance < 0.6 for o in customer)
    assert alerts_raised(customer) == []
    fresh = [o.t for o in customer if o.identity_fresh]
    # the first frame, then the re-verification every 6 s: 3 descriptors in 27 frames, not 27
    assert fresh[0] == 0.0 and len(fresh) <= 4, fresh
    swap_at = 13.5
    other = observe(faces, moving(faces, "biden.jpg", 8), t0=swap_at, analyzer=an)
    first = other[0]
    assert first.identity_fresh and first.identity_distance is not None and first.identity_distance > 0.6
    raised = alerts_raised(other)
    assert raised and raised[0][1] == AlertCode.NOT_CUSTOMER
    # caught on the first frame of B, prompted after the 1 s debounce (bound: the frame interval
    # + the debounce, far inside the 6 s re-verification period)
    assert raised[0][0] - swap_at <= 1.0 + 1 / FPS


def test_the_appearance_patch_tells_a_turning_face_from_another_person(faces: DlibFaceAnalyzer) -> None:
    """What the descriptor-skipping rests on, measured on the test photos: the same face turning
    ±8° keeps its patch (correlation ≥ the 0.8 trigger), other people's faces do not."""
    threshold = LiveOptions().embed_on_change
    patches = {}
    for name in ("obama.jpg", "obama2.jpg", "biden.jpg", "biden2.jpg"):
        seq = []
        for img in moving(faces, name, 8):
            found = faces.detect(decode_frame(jpeg(img)))
            assert len(found) == 1
            patch = face_patch(decode_frame(jpeg(img)), found[0])
            assert patch is not None
            seq.append(patch)
        patches[name] = seq
    for name, seq in patches.items():
        assert min(float(seq[0] @ p) for p in seq) >= threshold, name
    for a in ("obama.jpg", "obama2.jpg"):
        for b in ("biden.jpg", "biden2.jpg"):
            assert max(float(patches[a][0] @ p) for p in patches[b]) < threshold, (a, b)


def test_two_faces_and_no_face_still_alert_with_the_cheaper_analysis(faces: DlibFaceAnalyzer) -> None:
    """Region tracking on small copies between full searches: a second person entering beside
    the customer and the customer leaving are still prompted within 2 s."""
    customer = moving(faces, "obama.jpg", 6)
    img = photo("obama_and_biden.jpg", max_side=None)
    pair = cv2.resize(img[300:800, 600:1500], (640, 356), interpolation=cv2.INTER_AREA)
    pair = cv2.copyMakeBorder(pair, 62, 62, 0, 0, cv2.BORDER_REPLICATE)
    assert len(faces.detect(pair)) == 2
    background = np.full((480, 640, 3), 128, dtype=np.uint8)
    background[:, :, 0] = np.linspace(60, 200, 640, dtype=np.uint8)[None, :]
    background[::8] = 40  # some texture: not a covered lens
    an = LiveFrameAnalyzer(faces)
    obs = observe(faces, customer + [pair] * 5 + [background] * 5, analyzer=an)
    raised = alerts_raised(obs)
    assert AlertCode.MULTIPLE_FACES in [c for _, c in raised]
    two = next(t for t, c in raised if c == AlertCode.MULTIPLE_FACES)
    assert two - 3.0 <= 2.0  # the second face entered at 3.0
    gone = next(t for t, c in raised if c == AlertCode.NO_FACE)
    assert gone - 5.5 <= 2.0  # nobody from 5.5 on
