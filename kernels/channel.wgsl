// Per-channel kernels over contiguous [n, c, s] tensors (channels on axis 1): batch-norm
// statistics (STATS) and normalization (NORM), its input gradient (BACKWARD; SUMS: also the
// sums Σg and Σg·x̂ per channel it computes on the way, batch norm's β and γ gradients), a per-channel
// affine map (AFFINE, NOSHIFT: no shift), a bias added in place (BIAS) and a per-channel dot
// product (DOT). The reductions
// use one workgroup per channel (a channel's n·s values at (k·c + ch)·s + j, walked with a
// stride of WG), then a tree in workgroup memory; arithmetic in f32.
// Params: CHANNEL_PARAMS (ts/backend/webgpu/params.ts): eps for STATS, total elements for AFFINE/NORM/BIAS.

//#if STATS
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> mean: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> variance: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> rstd: array<{{T}}>;
//#endif
//#if NORM
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> gamma: array<{{T}}>;
@group(0) @binding(3) var<storage, read> beta: array<{{T}}>;
@group(0) @binding(4) var<storage, read> mean: array<{{T}}>;
@group(0) @binding(5) var<storage, read> rstd: array<{{T}}>;
@group(0) @binding(6) var<storage, read_write> y: array<{{T}}>;
@group(0) @binding(7) var<storage, read_write> xhat: array<{{T}}>;
//#endif
//#if BACKWARD
@group(0) @binding(1) var<storage, read> g: array<{{T}}>;
@group(0) @binding(2) var<storage, read> xhat: array<{{T}}>;
@group(0) @binding(3) var<storage, read> w: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> out0: array<{{T}}>;
//#if SUMS
@group(0) @binding(5) var<storage, read_write> sumG: array<{{T}}>;
@group(0) @binding(6) var<storage, read_write> sumGX: array<{{T}}>;
//#endif
//#endif
//#if DOT
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read> b: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out0: array<{{T}}>;
//#endif
//#if BIAS
@group(0) @binding(1) var<storage, read> bias: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> y: array<{{T}}>;
//#endif
//#if AFFINE
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> scale: array<{{T}}>;
//#if !NOSHIFT
@group(0) @binding(3) var<storage, read> shift: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> out0: array<{{T}}>;
//#else
@group(0) @binding(3) var<storage, read_write> out0: array<{{T}}>;
//#endif
//#endif

//#if NORM
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= p_total()) { return; }
  let ch = (i / p_s()) % p_c();
  let xh = (f32(x[i]) - f32(mean[ch])) * f32(rstd[ch]);
  xhat[i] = {{T}}(xh);
  y[i] = {{T}}(xh * f32(gamma[ch]) + f32(beta[ch]));
}
//#endif

//#if AFFINE
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= p_total()) { return; }
  let ch = (i / p_s()) % p_c();
  //#if NOSHIFT
  out0[i] = {{T}}(f32(x[i]) * f32(scale[ch]));
  //#else
  out0[i] = {{T}}(f32(x[i]) * f32(scale[ch]) + f32(shift[ch]));
  //#endif
}
//#endif

//#if BIAS
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= p_total()) { return; }
  y[i] = {{T}}(f32(y[i]) + f32(bias[(i / p_s()) % p_c()]));
}
//#endif

//#if !NORM
//#if !AFFINE
//#if !BIAS
var<workgroup> red: array<f32, {{WG}}>;
var<workgroup> red2: array<f32, {{WG}}>;

// Sums the workgroup's values of red (and red2) into red[0] (red2[0]).
fn tree(two: bool, lid: u32) {
  workgroupBarrier();
  for (var k = {{WG}}u / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      red[lid] = red[lid] + red[lid + k];
      if (two) { red2[lid] = red2[lid] + red2[lid + k]; }
    }
    workgroupBarrier();
  }
}

// Flat index of the i-th value (of n·s) of channel ch.
fn at(i: u32, ch: u32) -> u32 {
  let s = p_s();
  return ((i / s) * p_c() + ch) * s + i % s;
}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = group_index(wid, nwg);
  if (ch >= p_c()) { return; }
  let m = p_n() * p_s();
  //#if STATS
  var acc = 0.0;
  for (var i = lid; i < m; i += {{WG}}u) { acc += f32(x[at(i, ch)]); }
  red[lid] = acc;
  tree(false, lid);
  let mu = red[0] / f32(m);
  workgroupBarrier();
  var sq = 0.0;
  for (var i = lid; i < m; i += {{WG}}u) { let d = f32(x[at(i, ch)]) - mu; sq += d * d; }
  red[lid] = sq;
  tree(false, lid);
  if (lid == 0u) {
    let v = red[0] / f32(m);
    mean[ch] = {{T}}(mu);
    variance[ch] = {{T}}(v);
    rstd[ch] = {{T}}(1.0 / sqrt(v + p_eps()));
  }
  //#endif
  //#if BACKWARD
  var sg = 0.0;
  var sgx = 0.0;
  for (var i = lid; i < m; i += {{WG}}u) { let k = at(i, ch); let gv = f32(g[k]); sg += gv; sgx += gv * f32(xhat[k]); }
  red[lid] = sg;
  red2[lid] = sgx;
  tree(true, lid);
  //#if SUMS
  if (lid == 0u) {
    sumG[ch] = {{T}}(red[0]);
    sumGX[ch] = {{T}}(red2[0]);
  }
  //#endif
  let mg = red[0] / f32(m);
  let mgx = red2[0] / f32(m);
  let wc = f32(w[ch]);
  for (var i = lid; i < m; i += {{WG}}u) { let k = at(i, ch); out0[k] = {{T}}(wc * (f32(g[k]) - mg - f32(xhat[k]) * mgx)); }
  //#endif
  //#if DOT
  var acc = 0.0;
  for (var i = lid; i < m; i += {{WG}}u) { let k = at(i, ch); acc += f32(a[k]) * f32(b[k]); }
  red[lid] = acc;
  tree(false, lid);
  if (lid == 0u) { out0[ch] = {{T}}(red[0]); }
  //#endif
}
//#endif
//#endif
//#endif
