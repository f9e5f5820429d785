// The container of metagrad's data caches: a magic line, a uint32 LE header length, a JSON
// header, then raw bytes. Browser-safe (bytes in, bytes out); writing files is the loaders' job.

export function encodeCacheFile(magic: string, header: unknown, payload: Uint8Array): Uint8Array {
  const m = new TextEncoder().encode(magic);
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(m.length + 4 + h.length + payload.length);
  out.set(m, 0);
  new DataView(out.buffer).setUint32(m.length, h.length, true);
  out.set(h, m.length + 4);
  out.set(payload, m.length + 4 + h.length);
  return out;
}

/** The header and payload, or null when the bytes are not such a file (wrong magic, truncated, bad JSON). */
export function decodeCacheFile(magic: string, buf: Uint8Array): { header: unknown; payload: Uint8Array } | null {
  const m = new TextEncoder().encode(magic);
  if (buf.length < m.length + 4 || !m.every((b, i) => buf[i] === b)) return null;
  const hlen = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(m.length, true);
  if (m.length + 4 + hlen > buf.length) return null;
  try {
    return { header: JSON.parse(new TextDecoder().decode(buf.subarray(m.length + 4, m.length + 4 + hlen))), payload: buf.subarray(m.length + 4 + hlen) };
  } catch {
    return null;
  }
}
