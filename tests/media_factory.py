"""Builds test recordings from tests/data with the ffmpeg CLI, each defect injected alone.

Every recording is built once into a cache directory and reused. The clean recording: a photo of
one person moving slowly over grey (with camera-like noise) and 16.5 s of real Mandarin speech
(asr_example.wav + question.wav + news_mid.wav). Defects change one thing at a known time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.conftest import TEST_DATA

DATA = TEST_DATA
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
W, H, FPS = 640, 360, 25
SPEECH = ("asr_example.wav", "question.wav", "news_mid.wav")
DURATION = 16.5
OPENING = "欢迎大家来体验达摩院推出的语音识别模型"  # published transcript of asr_example.wav
CARD_NAME, CARD_ID = "王小明", "11010519491231002X"

# defect name -> (what it does, start, end)
DEFECTS: dict[str, tuple[str, float, float]] = {
    "black": ("black picture", 8.0, 11.0),
    "frozen": ("frozen picture", 8.0, 12.0),
    "silence": ("silent audio", 7.5, 12.5),
    "no_face": ("customer leaves the frame", 8.0, 12.0),
    "second_face": ("a second face appears", 8.0, 12.0),
    "swap": ("another person replaces the customer", 11.0, DURATION),
}


def available() -> str | None:
    """Why recordings cannot be built here, or None."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg CLI not installed"
    if not (DATA / "faces" / "obama.jpg").is_file():
        raise FileNotFoundError(f"test media missing from the repository: {DATA} (see tests/data/README.md)")
    return None


def _ffmpeg(*args: str) -> None:
    """Run ffmpeg; the last argument is the output, written under a temporary name first."""
    out = Path(args[-1])
    tmp = out.with_name(f".part-{os.getpid()}-{out.name}")  # parallel test workers
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *args[:-1], str(tmp)], check=True, timeout=600
    )
    tmp.replace(out)


class MediaFactory:
    def __init__(self, cache_dir: Path) -> None:
        self.dir = cache_dir
        self.dir.mkdir(parents=True, exist_ok=True)

    def _out(self, name: str) -> Path | None:
        path = self.dir / name
        return None if path.exists() else path

    def speech(self) -> Path:
        out = self._out("speech.wav")
        if out is not None:
            inputs = [a for f in SPEECH for a in ("-i", str(DATA / "speech" / f))]
            _ffmpeg(*inputs, "-filter_complex", "concat=n=3:v=0:a=1", "-ar", "16000", "-ac", "1", str(out))
        return self.dir / "speech.wav"

    def photo(self, name: str) -> Path:
        return DATA / "faces" / name

    def room(self) -> Path:
        """A static, textured background (a 'room'): blocks of different greys, deterministic."""
        out = self._out("room.png")
        if out is not None:
            rng = np.random.default_rng(7)
            img = Image.new("RGB", (W, H), (112, 112, 112))
            draw = ImageDraw.Draw(img)
            for _ in range(40):
                x, y = int(rng.integers(0, W)), int(rng.integers(0, H))
                w, h = int(rng.integers(20, 160)), int(rng.integers(20, 120))
                g = int(rng.integers(40, 220))
                draw.rectangle(
                    (x, y, x + w, y + h), fill=(g, g + 5 if g < 250 else g, g - 10 if g > 10 else g)
                )
            img.save(out)
        return self.dir / "room.png"

    def scaled(self, name: str, height: int) -> Path:
        """The photo scaled once to ``height`` (looping a big JPEG would rescale it every frame)."""
        out = self._out(f"{Path(name).stem}_{height}.png")
        if out is not None:
            img = Image.open(self.photo(name)).convert("RGB")
            img.resize((round(img.width * height / img.height) // 2 * 2, height)).save(out)
        return self.dir / f"{Path(name).stem}_{height}.png"

    def id_card(self) -> Path:
        """A synthetic second-generation ID card front (PIL + WenQuanYi), face pasted, valid number."""
        out = self._out("card.png")
        if out is not None:
            card = Image.new("RGB", (428, 270), (236, 240, 232))
            draw = ImageDraw.Draw(card)
            big, small = ImageFont.truetype(str(FONT), 20), ImageFont.truetype(str(FONT), 16)
            draw.text((24, 22), f"姓名  {CARD_NAME}", fill=(20, 20, 20), font=big)
            draw.text((24, 58), "性别  男    民族  汉", fill=(20, 20, 20), font=small)
            draw.text((24, 88), "出生  1949年12月31日", fill=(20, 20, 20), font=small)
            draw.text((24, 118), "住址  北京市朝阳区某某街道1号", fill=(20, 20, 20), font=small)
            draw.text((24, 222), f"公民身份号码  {CARD_ID}", fill=(20, 20, 20), font=big)
            face = Image.open(self.photo("obama2.jpg")).convert("RGB").resize((96, 184))
            card.paste(face, (310, 24))
            card.save(out)
        return self.dir / "card.png"

    def recording(self, defect: str | None = None) -> Path:
        """The clean recording, or it with one defect from DEFECTS (or "card": ID card held up 1–5 s)."""
        out = self._out(f"{defect or 'clean'}.mp4")
        if out is None:
            return self.dir / f"{defect or 'clean'}.mp4"
        a, b = DEFECTS[defect][1:] if defect in DEFECTS else (0.0, 0.0)
        between = f"between(t,{a},{b})"
        inputs = [
            "-loop",
            "1",
            "-framerate",
            str(FPS),
            "-t",
            str(DURATION),
            "-i",
            str(self.room()),
            "-loop",
            "1",
            "-framerate",
            str(FPS),
            "-i",
            str(self.scaled("obama.jpg", 320)),
            "-loop",
            "1",
            "-framerate",
            str(FPS),
            "-i",
            str(self.scaled("biden2.jpg", 260)),
            "-i",
            str(self.speech()),
        ]
        customer = (
            "enable='not(" + between + ")'"
            if defect == "no_face"
            else "enable='lt(t,11)'"
            if defect == "swap"
            else ""
        )
        chain = [
            "[1:v]null[p]",
            f"[0:v][p]overlay=x='60+30*sin(t)':y=20:shortest=1{':' + customer if customer else ''}[v1]",
        ]
        last = "v1"
        if defect == "second_face":
            chain.append("[2:v]null[q]")
            chain.append(f"[v1][q]overlay=x=380:y=60:enable='{between}'[v2]")
            last = "v2"
        if defect == "swap":
            chain.append("[2:v]null[q]")
            chain.append("[v1][q]overlay=x='60+30*sin(t)':y=40:enable='gte(t,11)'[v2]")
            last = "v2"
        if defect == "card":
            inputs += ["-loop", "1", "-framerate", str(FPS), "-i", str(self.id_card())]
            chain.append("[4:v]scale=330:-2[card]")
            chain.append(f"[{last}][card]overlay=x=306:y=120:enable='between(t,1,5)'[vc]")
            last = "vc"
        chain.append(f"[{last}]noise=alls=8:allf=t[vn]")
        last = "vn"
        if defect == "black":
            chain.append(f"[vn]drawbox=color=black:t=fill:enable='{between}'[vb]")
            last = "vb"
        if defect == "frozen":
            first, final = int(a * FPS), int(b * FPS)
            chain.append("[vn]split[s1][s2]")
            chain.append(f"[s1][s2]freezeframes=first={first}:last={final}:replace={first}[vf]")
            last = "vf"
        audio = "[3:a]anull[aout]" if defect != "silence" else f"[3:a]volume=0:enable='{between}'[aout]"
        _ffmpeg(
            *inputs,
            "-filter_complex",
            ";".join([*chain, audio]),
            "-map",
            f"[{last}]",
            "-map",
            "[aout]",
            "-t",
            str(DURATION),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            str(2 * FPS),
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            str(out),
        )
        return out

    # ------------------------------------------------------------------ bad inputs

    def zero_byte(self) -> Path:
        out = self._out("zero.mp4")
        if out is not None:
            out.write_bytes(b"")
        return self.dir / "zero.mp4"

    def text_as_mp4(self) -> Path:
        out = self._out("text.mp4")
        if out is not None:
            out.write_text("这不是视频 / this is not a video\n" * 200, encoding="utf-8")
        return self.dir / "text.mp4"

    def truncated(self, *, faststart: bool) -> Path:
        """The clean recording cut at 60 % of its bytes (moov at the end: unopenable; faststart: opens)."""
        name = f"truncated_{'faststart' if faststart else 'plain'}.mp4"
        out = self._out(name)
        if out is not None:
            src = self.recording()
            if faststart:
                full = self.dir / "faststart.mp4"
                _ffmpeg("-i", str(src), "-c", "copy", "-movflags", "+faststart", str(full))
                src = full
            data = src.read_bytes()
            out.write_bytes(data[: int(len(data) * 0.6)])
        return self.dir / name

    def audio_only(self) -> Path:
        out = self._out("audio_only.mp4")
        if out is not None:
            _ffmpeg("-i", str(self.speech()), "-c:a", "aac", str(out))
        return self.dir / "audio_only.mp4"

    def video_only(self) -> Path:
        out = self._out("video_only.mp4")
        if out is not None:
            _ffmpeg("-i", str(self.recording()), "-an", "-c", "copy", str(out))
        return self.dir / "video_only.mp4"

    def vfr(self) -> Path:
        """Variable frame rate: 25 fps for 5 s, then every third frame only."""
        out = self._out("vfr.mp4")
        if out is not None:
            _ffmpeg(
                "-i",
                str(self.recording()),
                "-vf",
                r"select='lt(t\,5)+not(mod(n\,3))'",
                "-fps_mode",
                "vfr",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "copy",
                str(out),
            )
        return self.dir / "vfr.mp4"

    def long_static(self, seconds: int = 7200) -> Path:
        """A tiny static recording (64×36, 1 fps, silent 8 kHz audio) of ``seconds``."""
        name = f"long_{seconds}s.mp4"
        out = self._out(name)
        if out is not None:
            _ffmpeg(
                "-f",
                "lavfi",
                "-i",
                f"color=c=0x606060:s=64x36:r=1:d={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"anullsrc=r=8000:cl=mono:d={seconds}",
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "300",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "16k",
                str(out),
            )
        return self.dir / name

    def bench(self, seconds: int = 600) -> Path:
        """A 720p30 recording (photo moving over grey, real speech looped) for the benchmark."""
        name = f"bench_{seconds}s.mp4"
        out = self._out(name)
        if out is not None:
            _ffmpeg(
                "-f",
                "lavfi",
                "-i",
                f"color=c=0x707070:s=1280x720:r=30:d={seconds}",
                "-i",
                str(self.scaled("obama.jpg", 640)),
                "-stream_loop",
                "-1",
                "-i",
                str(self.speech()),
                "-filter_complex",
                # one decoded photo looped in memory (not re-decoded every frame)
                "[1:v]loop=loop=-1:size=1:start=0,setpts=N/30/TB[p];"
                "[0:v][p]overlay=x='200+60*sin(t/2)':y=40:shortest=1[v]",
                "-map",
                "[v]",
                "-map",
                "2:a",
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-g",
                "60",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "96k",
                str(out),
            )
        return self.dir / name


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
