// Captures the customer's spoken answer from the session's microphone as 16 kHz 16-bit mono WAV.
// Recording stops after ``maxSeconds``, or once speech was heard and then ``silenceSeconds`` of quiet.

export interface AnswerCapture {
  done: Promise<Blob>;
  stop(): void;
  level(): number;
}

export function encodeWav(samples: Float32Array, rate: number): Blob {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset: number, s: string) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 0x7fff, true));
  return new Blob([buffer], { type: "audio/wav" });
}

export function downsample(input: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return input;
  const ratio = from / to;
  const out = new Float32Array(Math.floor(input.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const start = Math.floor(i * ratio);
    const end = Math.min(input.length, Math.floor((i + 1) * ratio));
    let sum = 0;
    for (let j = start; j < end; j++) sum += input[j] ?? 0;
    out[i] = sum / Math.max(1, end - start);
  }
  return out;
}

export function captureAnswer(
  stream: MediaStream,
  { maxSeconds = 10, silenceSeconds = 1.2, minSeconds = 1.0 } = {},
): AnswerCapture {
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(stream);
  const processor = ctx.createScriptProcessor(4096, 1, 1);
  const parts: Float32Array[] = [];
  let heard = false;
  let quietSince = 0;
  let current = 0;
  let finish: () => void = () => undefined;
  const started = ctx.currentTime;
  const done = new Promise<Blob>((resolve) => {
    finish = () => {
      processor.disconnect();
      source.disconnect();
      const total = parts.reduce((n, p) => n + p.length, 0);
      const all = new Float32Array(total);
      let offset = 0;
      for (const p of parts) {
        all.set(p, offset);
        offset += p.length;
      }
      const rate = ctx.sampleRate;
      void ctx.close();
      resolve(encodeWav(downsample(all, rate, 16000), 16000));
    };
  });
  let finished = false;
  const end = () => {
    if (!finished) {
      finished = true;
      finish();
    }
  };
  processor.onaudioprocess = (e) => {
    const data = new Float32Array(e.inputBuffer.getChannelData(0));
    parts.push(data);
    current = Math.sqrt(data.reduce((s, x) => s + x * x, 0) / data.length);
    const t = ctx.currentTime - started;
    if (current > 0.02) {
      heard = true;
      quietSince = t;
    }
    if (t >= maxSeconds || (heard && t > minSeconds && t - quietSince >= silenceSeconds)) end();
  };
  source.connect(processor);
  processor.connect(ctx.destination);
  return { done, stop: end, level: () => current };
}
