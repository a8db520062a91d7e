/**
 * jsdom has no canvas: each canvas gets a context that records its fillRect calls with the fill colour in force,
 * and its texts, each numbered in drawing order (what shows at a point is what was drawn there last), which is
 * what the rendering tests check. Grafana's UI code asks for matchMedia, ResizeObserver and TextEncoder.
 */
import { TextDecoder, TextEncoder } from 'node:util';

export interface FilledRect {
  x: number;
  y: number;
  w: number;
  h: number;
  fill: string;
  /** Drawing order among the context's fills and texts. */
  seq: number;
}

export interface RecordingContext {
  fills: FilledRect[];
  texts: Array<{ text: string; x: number; y: number; seq: number }>;
}

const contexts = new WeakMap<HTMLCanvasElement, RecordingContext & Record<string, unknown>>();

function recordingContext(): RecordingContext & Record<string, unknown> {
  let seq = 0;
  const ctx = {
    fills: [] as FilledRect[],
    texts: [] as Array<{ text: string; x: number; y: number; seq: number }>,
    fillStyle: '#000',
    strokeStyle: '#000',
    lineWidth: 1,
    font: '',
    textAlign: 'left',
    textBaseline: 'alphabetic',
    setTransform() {},
    clearRect() {
      ctx.fills.length = 0;
      ctx.texts.length = 0;
    },
    fillRect(x: number, y: number, w: number, h: number) {
      ctx.fills.push({ x, y, w, h, fill: String(ctx.fillStyle), seq: seq++ });
    },
    strokeRect() {},
    fillText(text: string, x: number, y: number) {
      ctx.texts.push({ text, x, y, seq: seq++ });
    },
  };
  return ctx;
}

Object.defineProperty(HTMLCanvasElement.prototype, 'getContext', {
  value(this: HTMLCanvasElement) {
    let ctx = contexts.get(this);
    if (!ctx) {
      ctx = recordingContext();
      contexts.set(this, ctx);
    }
    return ctx;
  },
});

window.matchMedia ??= ((query: string) => ({
  matches: false, media: query, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false,
})) as typeof window.matchMedia;

class NoopResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= NoopResizeObserver;

Object.assign(globalThis, { TextEncoder: globalThis.TextEncoder ?? TextEncoder, TextDecoder: globalThis.TextDecoder ?? TextDecoder });
