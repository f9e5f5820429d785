// A learning-curve figure as a list of drawing primitives in pixel coordinates, laid out
// once and rendered twice (SVG text and a PNG raster), so both files show the same plot.

export type Point = readonly [number, number];

export interface Series {
  name: string;
  points: readonly Point[];
  color: string;
}

export interface Panel {
  title: string;
  /** what the y axis measures, drawn along it */
  yLabel: string;
  series: readonly Series[];
}

export type Prim =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; stroke?: string; fill?: string }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; width: number }
  | { kind: 'path'; points: Point[]; stroke: string; width: number }
  | { kind: 'dot'; x: number; y: number; r: number; fill: string }
  | { kind: 'text'; x: number; y: number; text: string; size: number; anchor: 'start' | 'middle' | 'end'; fill: string; vertical?: boolean };

export interface Figure {
  width: number;
  height: number;
  prims: Prim[];
}

/** Series longer than this are reduced to the min and max of each bucket (spikes survive). */
export const MAX_POINTS = 1200;

/** At most about `max` points: per bucket of consecutive points, its minimum and maximum in x order. */
export function downsample(points: readonly Point[], max = MAX_POINTS): Point[] {
  const finite = points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  if (finite.length <= max) return finite;
  const buckets = Math.floor(max / 2);
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * finite.length) / buckets), hi = Math.floor(((b + 1) * finite.length) / buckets);
    let iMin = lo, iMax = lo;
    for (let i = lo + 1; i < hi; i++) {
      if (finite[i]![1] < finite[iMin]![1]) iMin = i;
      if (finite[i]![1] > finite[iMax]![1]) iMax = i;
    }
    for (const i of iMin <= iMax ? [iMin, iMax] : [iMax, iMin]) if (out[out.length - 1] !== finite[i]) out.push(finite[i]!);
  }
  return out;
}

/** Minimum and maximum without spreading into Math.min (which overflows the stack past ~130k values). */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** About n round-numbered ticks covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  if (integer) step = Math.max(1, Math.round(step));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Iteration counts: 800, 1500, 12k, 2.5M — never exponent notation. */
export function fmtCount(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Math.round(v));
}

/** Metric values: three significant digits, exponents only for very large or tiny magnitudes. */
export function fmtValue(v: number): string {
  const a = Math.abs(v);
  if (v !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

const W = 640, PANEL_H = 230, LEFT = 78, RIGHT = 24, TOP = 30, BOTTOM = 40, HEADER = 30;

/** One panel per entry, stacked over a shared iteration axis; each panel has its own y scale and a legend. */
export function learningCurve(title: string, panels: readonly Panel[], xLabel = 'iteration'): Figure {
  const shown = panels.map((p) => ({ ...p, series: p.series.map((s) => ({ ...s, points: downsample(s.points) })).filter((s) => s.points.length > 0) })).filter((p) => p.series.length > 0);
  let [x0, x1] = extent(shown.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0]))));
  if (!Number.isFinite(x0)) [x0, x1] = [0, 1];
  x0 = Math.min(x0, 0);
  if (!(x1 > x0)) x1 = x0 + 1;
  const prims: Prim[] = [{ kind: 'rect', x: 0, y: 0, w: W, h: HEADER + shown.length * PANEL_H, fill: '#ffffff' }];
  prims.push({ kind: 'text', x: W / 2, y: 20, text: title, size: 15, anchor: 'middle', fill: '#000000' });
  const plotW = W - LEFT - RIGHT, plotH = PANEL_H - TOP - BOTTOM;
  const sx = (x: number) => LEFT + ((x - x0) / (x1 - x0)) * plotW;
  shown.forEach((p, k) => {
    const oy = HEADER + k * PANEL_H;
    let [y0, y1] = extent(p.series.flatMap((s) => s.points.map((q) => q[1])));
    if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
    const sy = (y: number) => oy + TOP + (1 - (y - y0) / (y1 - y0)) * plotH;
    prims.push({ kind: 'text', x: LEFT, y: oy + 18, text: p.title, size: 13, anchor: 'start', fill: '#000000' });
    for (const t of ticks(y0, y1)) {
      prims.push({ kind: 'line', x1: LEFT - 4, x2: W - RIGHT, y1: sy(t), y2: sy(t), stroke: '#e6e6e6', width: 1 });
      prims.push({ kind: 'text', x: LEFT - 7, y: sy(t) + 4, text: fmtValue(t), size: 11, anchor: 'end', fill: '#333333' });
    }
    for (const t of ticks(x0, x1, 6, true)) {
      // The last label would run past the right edge if centred on its tick.
      const anchor = sx(t) > W - RIGHT - 12 ? 'end' : 'middle';
      prims.push({ kind: 'line', x1: sx(t), x2: sx(t), y1: oy + TOP + plotH, y2: oy + TOP + plotH + 4, stroke: '#999999', width: 1 });
      prims.push({ kind: 'text', x: sx(t), y: oy + TOP + plotH + 16, text: fmtCount(t), size: 11, anchor, fill: '#333333' });
    }
    prims.push({ kind: 'rect', x: LEFT, y: oy + TOP, w: plotW, h: plotH, stroke: '#999999' });
    prims.push({ kind: 'text', x: 16, y: oy + TOP + plotH / 2, text: p.yLabel, size: 11, anchor: 'middle', fill: '#333333', vertical: true });
    prims.push({ kind: 'text', x: LEFT + plotW / 2, y: oy + PANEL_H - 6, text: xLabel, size: 11, anchor: 'middle', fill: '#333333' });
    p.series.forEach((s, j) => {
      prims.push({ kind: 'path', points: s.points.map((q) => [sx(q[0]), sy(q[1])] as Point), stroke: s.color, width: 1.5 });
      if (s.points.length <= 40) for (const q of s.points) prims.push({ kind: 'dot', x: sx(q[0]), y: sy(q[1]), r: 2.5, fill: s.color });
      if (p.series.length > 1) {
        const ly = oy + TOP + 14 + j * 15;
        prims.push({ kind: 'line', x1: W - RIGHT - 150, x2: W - RIGHT - 132, y1: ly - 4, y2: ly - 4, stroke: s.color, width: 2 });
        prims.push({ kind: 'text', x: W - RIGHT - 128, y: ly, text: s.name, size: 11, anchor: 'start', fill: '#333333' });
      }
    });
  });
  return { width: W, height: HEADER + shown.length * PANEL_H, prims };
}

/** Exponential moving average with bias correction, for a readable training-loss curve. */
export function smooth(points: readonly Point[], beta = 0.95): [number, number][] {
  let m = 0;
  let n = 0;
  return points.map(([x, y]) => {
    if (Number.isFinite(y)) {
      m = beta * m + (1 - beta) * y;
      n++;
    }
    return [x, n ? m / (1 - beta ** n) : NaN];
  });
}
