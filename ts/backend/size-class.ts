// The size classes buffer pools round requests up to: powers of two split into `steps`
// equal parts (at most 1/steps waste), never below `minBytes`. Any freed buffer of a class
// can serve any request of that class, whatever its dtype or exact length was.

export function sizeClass(bytes: number, minBytes = 256, steps = 4): number {
  if (bytes <= minBytes) return minBytes;
  const p = 2 ** Math.floor(Math.log2(bytes));
  if (p === bytes) return p;
  const q = Math.max(1, p / steps);
  return Math.ceil(bytes / q) * q;
}
