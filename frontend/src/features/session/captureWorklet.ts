// The customer's answer is captured in the audio rendering thread (an AudioWorklet), not on the
// page's main thread: on a phone whose main thread is busy (the face model, the page) a
// ScriptProcessorNode's callbacks come late and audio goes missing; here every input block is
// copied in the audio thread and posted to the page, which may read the messages late but gets them
// all. Built by Vite as a module of its own (answerAudio.ts imports its URL with ?worker&url).

interface WorkletProcessor {
  readonly port: MessagePort;
}
declare const AudioWorkletProcessor: { prototype: WorkletProcessor; new (): WorkletProcessor };
declare function registerProcessor(name: string, ctor: unknown): void;

const BLOCK = 2048; // samples per message (~43 ms at 48 kHz)

class CaptureProcessor extends AudioWorkletProcessor {
  private buf = new Float32Array(BLOCK);
  private n = 0;

  constructor() {
    super();
    // "flush": the page stops: what is buffered goes now, then one empty message says "that was all"
    this.port.onmessage = () => {
      this.post();
      this.port.postMessage(new Float32Array(0));
    };
  }

  private post(): void {
    if (this.n === 0) return;
    const out = this.buf.slice(0, this.n);
    this.port.postMessage(out, [out.buffer]);
    this.n = 0;
  }

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        this.buf[this.n++] = channel[i] ?? 0;
        if (this.n === BLOCK) this.post();
      }
    }
    return true;
  }
}

registerProcessor("dualrec-capture", CaptureProcessor);
