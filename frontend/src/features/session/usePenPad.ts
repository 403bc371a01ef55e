// A pen pad on a <canvas>: pointer strokes drawn in the canvas's own pixels (whatever size it is
// shown at), cleared, and read back as PNG. Shared by the signature and the handwritten copy (抄录).
import { onMounted, ref, type Ref } from "vue";

export function usePenPad(canvas: Ref<HTMLCanvasElement | null>, lineWidth: number) {
  const inked = ref(false); // something was drawn since the last clear
  const strokes = ref(0); // finished strokes that drew something (an error about the ink can go)
  let drawing = false;
  let drew = false;

  function point(e: PointerEvent): [number, number] {
    const c = canvas.value as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    return [((e.clientX - r.left) * c.width) / r.width, ((e.clientY - r.top) * c.height) / r.height];
  }
  function down(e: PointerEvent): void {
    const ctx = canvas.value?.getContext("2d");
    if (!ctx) return;
    drawing = true;
    drew = false;
    ctx.beginPath();
    ctx.moveTo(...point(e));
  }
  function move(e: PointerEvent): void {
    const ctx = canvas.value?.getContext("2d");
    if (!drawing || !ctx) return;
    ctx.lineTo(...point(e));
    ctx.stroke();
    inked.value = true;
    drew = true;
  }
  function up(): void {
    if (drawing && drew) strokes.value += 1;
    drawing = false;
    drew = false;
  }
  function clear(): void {
    const c = canvas.value;
    c?.getContext("2d")?.clearRect(0, 0, c.width, c.height);
    inked.value = false;
  }
  function png(): Promise<Blob | null> {
    const c = canvas.value;
    return c ? new Promise<Blob | null>((resolve) => c.toBlob(resolve, "image/png")) : Promise.resolve(null);
  }
  onMounted(() => {
    const ctx = canvas.value?.getContext("2d");
    if (ctx) {
      ctx.lineWidth = lineWidth;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }
  });

  return { inked, strokes, down, move, up, clear, png };
}
