// Captures the customer's spoken answer from the session's microphone as 16 kHz 16-bit mono WAV.
// Recording stops after ``maxSeconds``, or once speech was heard and then ``silenceSeconds`` of quiet
// (both counted in captured audio). The samples are taken in an AudioWorklet (captureWorklet.ts).
import captureWorkletUrl from "./captureWorklet.ts?worker&url";

export interface AnswerCapture {
  done: Promise<Blob>;
  stop(): void;
  level(): number;
  /** Where the samples are taken: the audio thread, or the page's main thread (no AudioWorklet). */
  via(): "worklet" | "main" | "starting";
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
  const rate = ctx.sampleRate;
  const parts: Float32Array[] = [];
  let samples = 0;
  let heard = false;
  let quietSince = 0;
  let current = 0;
  let stopping = false;
  let completed = false;
  let resolveDone: (wav: Blob) => void = () => undefined;
  const done = new Promise<Blob>((resolve) => (resolveDone = resolve));
  let worklet: AudioWorkletNode | null = null;
  let processor: ScriptProcessorNode | null = null;

  // every sample captured so far, as a WAV (the graph taken down)
  const complete = () => {
    if (completed) return;
    completed = true;
    source.disconnect();
    worklet?.disconnect();
    worklet?.port.close();
    processor?.disconnect();
    const all = new Float32Array(samples);
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    void ctx.close();
    resolveDone(encodeWav(downsample(all, rate, 16000), 16000));
  };
  // the end is asked for: the worklet first hands over what it holds (its empty message completes)
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (worklet) {
      worklet.port.postMessage("flush");
      window.setTimeout(complete, 1000); // a worklet that does not answer (a stopped context) loses nothing else
    } else complete();
  };
  // the clock is the audio captured, not the time the page got it: a late page loses nothing
  const take = (data: Float32Array) => {
    if (completed) return;
    parts.push(data);
    samples += data.length;
    current = Math.sqrt(data.reduce((s, x) => s + x * x, 0) / Math.max(1, data.length));
    const t = samples / rate;
    if (current > 0.02) {
      heard = true;
      quietSince = t;
    }
    if (t >= maxSeconds || (heard && t > minSeconds && t - quietSince >= silenceSeconds)) stop();
  };
  // browsers without AudioWorklet (or a module that does not load): the main-thread processor
  const onMainThread = () => {
    if (completed) return;
    processor = ctx.createScriptProcessor(4096, 1, 1);
    processor.onaudioprocess = (e) => take(new Float32Array(e.inputBuffer.getChannelData(0)));
    source.connect(processor);
    processor.connect(ctx.destination);
    if (stopping) complete();
  };

  if (typeof AudioWorkletNode === "undefined" || !ctx.audioWorklet) onMainThread();
  else {
    ctx.audioWorklet.addModule(captureWorkletUrl).then(
      () => {
        if (stopping) return complete();
        worklet = new AudioWorkletNode(ctx, "dualrec-capture", { numberOfInputs: 1, numberOfOutputs: 1 });
        worklet.port.onmessage = (e: MessageEvent<Float32Array>) => {
          if (e.data.length === 0) complete();
          else take(e.data);
        };
        source.connect(worklet);
        worklet.connect(ctx.destination); // silent output: keeps the node rendered
      },
      (err: unknown) => {
        console.warn("answer capture: AudioWorklet unavailable, capturing on the main thread:", err);
        onMainThread();
      },
    );
  }
  return { done, stop, level: () => current, via: () => (worklet ? "worklet" : processor ? "main" : "starting") };
}
