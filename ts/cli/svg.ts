// A learning curve as a hand-written SVG: line series over a shared iteration axis, each
// series on its own y-scale panel (training loss and validation metric differ in units).

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(3))));

/** One panel per series, stacked; x is the iteration. */
export function learningCurveSvg(title: string, panels: readonly Series[], xLabel = 'iteration'): string {
  const W = 640, H = 220, left = 64, right = 16, top = 28, bottom = 36;
  const shown = panels.filter((p) => p.points.length > 0);
  const xs = shown.flatMap((p) => p.points.map((q) => q[0]));
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  const parts: string[] = [];
  shown.forEach((p, k) => {
    const oy = 30 + k * H;
    const ys = p.points.map((q) => q[1]).filter(Number.isFinite);
    let y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
    const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * (W - left - right);
    const sy = (y: number) => oy + top + (1 - (y - y0) / (y1 - y0)) * (H - top - bottom);
    parts.push(`<text x="${left}" y="${oy + 18}" font-size="13" fill="${p.color}">${esc(p.name)}</text>`);
    parts.push(`<rect x="${left}" y="${oy + top}" width="${W - left - right}" height="${H - top - bottom}" fill="none" stroke="#999"/>`);
    for (const t of ticks(y0, y1)) {
      parts.push(`<line x1="${left - 4}" x2="${W - right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
      parts.push(`<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(t)}</text>`);
    }
    for (const t of ticks(x0, x1)) {
      parts.push(`<text x="${sx(t).toFixed(1)}" y="${oy + H - bottom + 14}" font-size="11" text-anchor="middle">${fmt(t)}</text>`);
    }
    const d = p.points.filter((q) => Number.isFinite(q[1])).map((q, i) => `${i ? 'L' : 'M'}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${p.color}" stroke-width="1.5"/>`);
    if (p.points.length <= 40) for (const q of p.points) parts.push(`<circle cx="${sx(q[0]).toFixed(1)}" cy="${sy(q[1]).toFixed(1)}" r="2.5" fill="${p.color}"/>`);
    parts.push(`<text x="${(left + W - right) / 2}" y="${oy + H - 6}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>`);
  });
  const height = 30 + shown.length * H;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" font-size="15" text-anchor="middle">${esc(title)}</text>
${parts.join('\n')}
</svg>
`;
}

/** Exponential moving average, for a readable training-loss curve. */
export function smooth(points: readonly (readonly [number, number])[], beta = 0.95): [number, number][] {
  let m = 0;
  return points.map(([x, y], i) => {
    m = beta * m + (1 - beta) * y;
    return [x, m / (1 - beta ** (i + 1))];
  });
}
