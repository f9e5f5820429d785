// A Figure as SVG text.

import type { Figure, Prim } from './figure.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number) => v.toFixed(1);

function element(p: Prim): string {
  switch (p.kind) {
    case 'rect':
      return `<rect x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" fill="${p.fill ?? 'none'}"${p.stroke ? ` stroke="${p.stroke}"` : ''}/>`;
    case 'line':
      return `<line x1="${n(p.x1)}" y1="${n(p.y1)}" x2="${n(p.x2)}" y2="${n(p.y2)}" stroke="${p.stroke}" stroke-width="${p.width}"/>`;
    case 'path':
      return `<path d="${p.points.map((q, i) => `${i ? 'L' : 'M'}${n(q[0])},${n(q[1])}`).join('')}" fill="none" stroke="${p.stroke}" stroke-width="${p.width}"/>`;
    case 'dot':
      return `<circle cx="${n(p.x)}" cy="${n(p.y)}" r="${p.r}" fill="${p.fill}"/>`;
    case 'text': {
      const rotate = p.vertical ? ` transform="rotate(-90 ${n(p.x)} ${n(p.y)})"` : '';
      return `<text x="${n(p.x)}" y="${n(p.y)}" font-size="${p.size}" text-anchor="${p.anchor}" fill="${p.fill}"${rotate}>${esc(p.text)}</text>`;
    }
  }
}

export function figureSvg(fig: Figure): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${fig.width}" height="${fig.height}" viewBox="0 0 ${fig.width} ${fig.height}" font-family="sans-serif">\n${fig.prims.map(element).join('\n')}\n</svg>\n`;
}
