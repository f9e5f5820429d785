// maxPool2d over contiguous [planes, h, w]: a thread per output window. Writes the max and
// its index within the h*w plane; padding never wins; ties and NaN follow the reference
// (a later value wins only if strictly greater). An all-padding window gives (-inf, -1).
// BACKWARD: the transpose, a thread per input element that sums dy over the windows whose
// argmax it is, in window order (deterministic, no atomics); 0 is then the total inputs.
// Params: 0 total outputs, 1 h, 2 w, 3 kh, 4 kw, 5 oh, 6 ow, 7 strideH, 8 strideW, 9 padH, 10 padW.

//#if !BACKWARD
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> vals: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> idx: array<i32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = group_index(wid, nwg) * 256u + lid;
  if (o >= P(0u)) { return; }
  let h = i32(P(1u)); let w = i32(P(2u));
  let ohw = P(5u) * P(6u);
  let plane = o / ohw;
  let q = o % ohw;
  let y0 = i32((q / P(6u)) * P(7u)) - i32(P(9u));
  let x0 = i32((q % P(6u)) * P(8u)) - i32(P(10u));
  var best = -inf_f32();
  var bi = -1;
  let base = plane * u32(h * w);
  for (var ky = 0; ky < i32(P(3u)); ky++) {
    let iy = y0 + ky;
    if (iy < 0 || iy >= h) { continue; }
    for (var kx = 0; kx < i32(P(4u)); kx++) {
      let ix = x0 + kx;
      if (ix < 0 || ix >= w) { continue; }
      let v = f32(x[base + u32(iy * w + ix)]);
      if (bi < 0 || v > best) { best = v; bi = iy * w + ix; }
    }
  }
  vals[o] = {{T}}(best);
  idx[o] = bi;
}
//#else
@group(0) @binding(1) var<storage, read> dy: array<{{T}}>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<{{T}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = group_index(wid, nwg) * 256u + lid;
  if (e >= P(0u)) { return; }
  let h = i32(P(1u)); let w = i32(P(2u));
  let kh = i32(P(3u)); let kw = i32(P(4u));
  let oh = i32(P(5u)); let ow = i32(P(6u));
  let sh = i32(P(7u)); let sw = i32(P(8u));
  let ph = i32(P(9u)); let pw = i32(P(10u));
  let hw = u32(h * w);
  let plane = e / hw;
  let q = i32(e % hw);
  let iy = q / w; let ix = q % w;
  // windows oy with oy*sh - ph <= iy <= oy*sh - ph + kh - 1
  let oy0 = max(0, (iy + ph - kh + sh) / sh);
  let oy1 = min(oh - 1, (iy + ph) / sh);
  let ox0 = max(0, (ix + pw - kw + sw) / sw);
  let ox1 = min(ow - 1, (ix + pw) / sw);
  var acc = 0.0;
  let base = plane * u32(oh * ow);
  for (var oy = oy0; oy <= oy1; oy++) {
    for (var ox = ox0; ox <= ox1; ox++) {
      let o = base + u32(oy * ow + ox);
      if (idx[o] == q) { acc += f32(dy[o]); }
    }
  }
  dx[e] = {{T}}(acc);
}
//#endif
