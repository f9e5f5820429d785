// Philox4x32-10, bit for bit the generator of ts/core/philox.ts: a thread per 4-word
// block. Block b uses counter (ctrLo + b, ctrHi + carry, 0, 0); the 64-bit products are
// built from 16-bit halves since WGSL has no 64-bit integers.
// uniform: (w >> 8) * 2^-24 (exact in float32); normal: Box-Muller on word pairs (f32 math);
// bits: the word as i32. Params: PHILOX_PARAMS (ts/backend/webgpu/params.ts).

@group(0) @binding(1) var<storage, read_write> out0: array<{{T}}>;

fn mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}

fn philox(key: vec2<u32>, ctr: vec4<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = mulhi(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let blk = group_index(wid, nwg) * 64u + lid;
  let n = p_n();
  let base = blk * 4u;
  if (base >= n) { return; }
  let lo = p_ctrLo() + blk;
  let hi = p_ctrHi() + select(0u, 1u, lo < p_ctrLo());
  let w = philox(vec2<u32>(p_key0(), p_key1()), vec4<u32>(lo, hi, 0u, 0u));
  //#if NORMAL
  let scale = 1.0 / 16777216.0;
  var vals: array<f32, 4>;
  for (var p = 0u; p < 2u; p++) {
    let u1 = f32((w[2u * p] >> 8u) + 1u) * scale;
    let u2 = f32(w[2u * p + 1u] >> 8u) * scale;
    let r = sqrt(-2.0 * log(u1));
    let th = 6.283185307179586 * u2;
    vals[2u * p] = r * cos(th);
    vals[2u * p + 1u] = r * sin(th);
  }
  //#endif
  for (var j = 0u; j < 4u; j++) {
    if (base + j < n) {
      //#if UNIFORM
      out0[base + j] = {{T}}(f32(w[j] >> 8u) * (1.0 / 16777216.0));
      //#endif
      //#if NORMAL
      out0[base + j] = {{T}}(vals[j]);
      //#endif
      //#if BITS
      out0[base + j] = bitcast<i32>(w[j]);
      //#endif
    }
  }
}
