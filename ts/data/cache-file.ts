// The container of metagrad's data caches: a magic line, a uint32 LE header length, a JSON
// header, then raw bytes. Browser-safe (bytes in, bytes out); writing files is the loaders' job.
// The header also carries a CRC-32 of the payload, so damaged bytes anywhere (a flipped pixel)
// make the file unreadable and the loader rebuilds it, as it does a truncated one.

export function encodeCacheFile(magic: string, header: unknown, payload: Uint8Array): Uint8Array {
  const m = new TextEncoder().encode(magic);
  const h = new TextEncoder().encode(JSON.stringify({ ...(header as object), payloadCrc32: crc32(payload) }));
  const out = new Uint8Array(m.length + 4 + h.length + payload.length);
  out.set(m, 0);
  new DataView(out.buffer).setUint32(m.length, h.length, true);
  out.set(h, m.length + 4);
  out.set(payload, m.length + 4 + h.length);
  return out;
}

/** The header and payload, or null when the bytes are not such a file (wrong magic, truncated, bad JSON, a payload that fails its CRC-32). */
export function decodeCacheFile(magic: string, buf: Uint8Array): { header: unknown; payload: Uint8Array } | null {
  const m = new TextEncoder().encode(magic);
  if (buf.length < m.length + 4 || !m.every((b, i) => buf[i] === b)) return null;
  const hlen = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(m.length, true);
  if (m.length + 4 + hlen > buf.length) return null;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(m.length + 4, m.length + 4 + hlen)));
  } catch {
    return null;
  }
  const payload = buf.subarray(m.length + 4 + hlen);
  if (header === null || typeof header !== 'object' || (header as { payloadCrc32?: unknown }).payloadCrc32 !== crc32(payload)) return null;
  return { header, payload };
}

let table: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, as zlib): detects every error burst up to 32 bits; ~40 ms for Omniglot's 25 MB. */
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
