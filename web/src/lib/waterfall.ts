// Geometry of the waterfall timeline: where each bar sits, and the labelled ticks of the ruler.
import { formatDuration } from './time.ts';

export interface Bar {
  /** offset from the trace start, as a percentage of the trace duration */
  leftPct: number;
  widthPct: number;
}

/** Bars narrower than this would vanish; they are widened (and kept inside the track). */
const MIN_BAR_PCT = 0.25;

export function barGeometry(start: number, end: number, traceStart: number, traceEnd: number): Bar {
  const span = Math.max(traceEnd - traceStart, 1);
  const left = clamp(((start - traceStart) / span) * 100, 0, 100);
  const width = clamp(((end - start) / span) * 100, 0, 100);
  const widthPct = Math.max(width, MIN_BAR_PCT);
  return { leftPct: Math.min(left, 100 - widthPct), widthPct };
}

export interface Tick {
  offsetPct: number;
  label: string;
}

/** About `target` ticks at "nice" intervals (1, 2 or 5 × 10^n µs) from 0 to the trace duration. */
export function timeTicks(durationMicros: number, target = 5): Tick[] {
  if (!(durationMicros > 0)) return [{ offsetPct: 0, label: '0' }];
  const step = niceStep(durationMicros / target);
  const ticks: Tick[] = [];
  for (let t = 0; t <= durationMicros + step * 1e-9; t += step) {
    ticks.push({ offsetPct: (t / durationMicros) * 100, label: t === 0 ? '0' : formatDuration(t) });
  }
  return ticks;
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const nice = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return nice * magnitude;
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(value, min), max) : min;
}
