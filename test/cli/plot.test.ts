// The learning-curve figure: readable ticks, downsampling of long runs, legends, and a PNG
// that decodes back to the declared size.
import test from 'tape';
import { unzlibSync } from 'fflate';
import { downsample, extent, fmtCount, fmtValue, learningCurve, smooth, ticks } from '../../ts/cli/plot/figure.js';
import { figurePng } from '../../ts/cli/plot/png.js';
import { figureSvg } from '../../ts/cli/plot/svg.js';

const series = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => [i + 1, f(i)] as [number, number]);

test('plot: iteration ticks never use exponent notation; values keep 3 digits', (t) => {
  t.deepEqual([0, 800, 1000, 1500, 12000, 150000, 2_500_000].map(fmtCount), ['0', '800', '1000', '1500', '12k', '150k', '2.5M']);
  t.deepEqual([0.5, 1.25, 2, 0.0001, 250000].map(fmtValue), ['0.5', '1.25', '2', '1.0e-4', '2.5e+5']);
  const tk = ticks(0, 1000, 6, true);
  t.ok(tk.every(Number.isInteger) && tk[0] === 0 && tk[tk.length - 1] === 1000, `integer ticks ${tk}`);
  t.deepEqual(ticks(0, 3, 6, true), [0, 1, 2, 3], 'short runs get unit steps, no fractional iterations');
  t.end();
});

test('plot: 200k-point runs are downsampled, keep their extremes, and do not overflow the stack', (t) => {
  const pts = series(200_000, (i) => (i === 123_456 ? 50 : i === 77_777 ? -5 : Math.sin(i / 1000)));
  t.deepEqual(extent(pts.map((p) => p[1])), [-5, 50], 'extent over 200k values');
  const d = downsample(pts);
  t.ok(d.length <= 1200, `${d.length} points kept`);
  t.ok(d.some((p) => p[1] === 50) && d.some((p) => p[1] === -5), 'the spike and the dip survive');
  t.ok(d.every((p, i) => i === 0 || p[0] > d[i - 1]![0]), 'x stays increasing');
  const fig = learningCurve('long run', [{ title: 'loss', yLabel: 'loss', series: [{ name: 'train', points: smooth(pts), color: '#1f77b4' }] }]);
  const path = fig.prims.find((p) => p.kind === 'path');
  t.ok(path && path.kind === 'path' && path.points.length <= 1200, 'the drawn path is short');
  t.end();
});

test('plot: the last x label stays inside the figure; legends name every series; y axes are labelled', (t) => {
  const fig = learningCurve('maml · sinusoid', [
    { title: 'meta-training loss', yLabel: 'MSE', series: [{ name: 'maml', points: series(2000, (i) => 1 / (i + 1)), color: '#1f77b4' }, { name: 'pretrained', points: series(2000, (i) => 2 / (i + 1)), color: '#ff7f0e' }] },
  ]);
  const texts = fig.prims.flatMap((p) => (p.kind === 'text' ? [p] : []));
  const last = texts.filter((p) => p.text === '2000')[0];
  t.ok(last && last.anchor === 'end' && last.x <= fig.width, 'the last iteration label is right-aligned at the edge');
  t.ok(texts.some((p) => p.text === 'pretrained') && texts.some((p) => p.text === 'maml'), 'legend entries');
  t.ok(texts.some((p) => p.text === 'MSE' && p.vertical), 'vertical y-axis label');
  const svg = figureSvg(fig);
  t.ok(svg.startsWith('<svg') && svg.includes('rotate(-90') && !svg.includes('e+3'), 'SVG has the rotated label and no exponent ticks');
  t.end();
});

test('plot: the PNG is a valid RGB image of the figure', (t) => {
  const fig = learningCurve('t', [{ title: 'p', yLabel: 'y', series: [{ name: 's', points: series(50, (i) => i * i), color: '#d62728' }] }]);
  const png = figurePng(fig, 2);
  t.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset);
  t.equal(view.getUint32(16), fig.width * 2, 'IHDR width');
  t.equal(view.getUint32(20), fig.height * 2, 'IHDR height');
  // Walk the chunks; inflate IDAT and count red pixels of the series colour.
  let at = 8, idat: Uint8Array | null = null;
  while (at < png.length) {
    const len = view.getUint32(at), type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat = png.subarray(at + 8, at + 8 + len);
    at += 12 + len;
  }
  t.equal(at, png.length, 'chunks tile the file');
  const raw = unzlibSync(idat!);
  const w = fig.width * 2, h = fig.height * 2;
  t.equal(raw.length, h * (1 + 3 * w), 'one filter byte and 3 bytes a pixel per row');
  let red = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = y * (1 + 3 * w) + 1 + 3 * x;
    if (raw[o] === 0xd6 && raw[o + 1] === 0x27 && raw[o + 2] === 0x28) red++;
  }
  t.ok(red > 500, `${red} pixels drawn in the series colour`);
  t.end();
});
