// Fused softmax / log-softmax along the last axis of a contiguous [rows, cols] matrix.
// ROW: one workgroup per row, three sweeps (max, sum of exp, write), trees in workgroup
// memory. THREAD (short rows): one thread per row, the same three sweeps without barriers.
// Arithmetic in f32 (f16 storages are widened). Params: SOFTMAX_PARAMS (ts/backend/webgpu/params.ts).

@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out0: array<{{T}}>;

fn nan_max(a: f32, b: f32) -> f32 { return select(a, b, b > a || is_nan(b)); }

//#if THREAD
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = group_index(wid, nwg) * 64u + lid;
  if (row >= p_rows()) { return; }
  let cols = p_cols();
  let base = p_offset() + row * cols;
  let ob = row * cols;
  var m = -inf_f32();
  for (var j = 0u; j < cols; j++) { m = nan_max(m, f32(x[base + j])); }
  var total = 0.0;
  for (var j = 0u; j < cols; j++) { total += exp(f32(x[base + j]) - m); }
  let lt = log(total);
  for (var j = 0u; j < cols; j++) {
    let v = f32(x[base + j]) - m;
    //#if LOG
    out0[ob + j] = {{T}}(v - lt);
    //#else
    out0[ob + j] = {{T}}(exp(v) / total);
    //#endif
  }
}
//#else
var<workgroup> red: array<f32, {{WG}}>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = group_index(wid, nwg);
  if (row >= p_rows()) { return; }
  let cols = p_cols();
  let base = p_offset() + row * cols;
  let ob = row * cols;
  var m = -inf_f32();
  for (var j = lid; j < cols; j += {{WG}}u) { m = nan_max(m, f32(x[base + j])); }
  red[lid] = m;
  workgroupBarrier();
  for (var s = {{WG}}u / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = nan_max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var j = lid; j < cols; j += {{WG}}u) { sum += exp(f32(x[base + j]) - m); }
  red[lid] = sum;
  workgroupBarrier();
  for (var s = {{WG}}u / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  let lt = log(total);
  for (var j = lid; j < cols; j += {{WG}}u) {
    let v = f32(x[base + j]) - m;
    //#if LOG
    out0[ob + j] = {{T}}(v - lt);
    //#else
    out0[ob + j] = {{T}}(exp(v) / total);
    //#endif
  }
}
//#endif
