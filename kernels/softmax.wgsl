// Fused softmax / log-softmax along the last axis of a contiguous [rows, cols] matrix:
// one workgroup per row, three sweeps (max, sum of exp, write), trees in workgroup memory.
// Arithmetic in f32 (f16 storages are widened). Params: 0 rows, 1 cols, 2 input offset.

@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out0: array<{{T}}>;

var<workgroup> red: array<f32, {{WG}}>;

fn nan_max(a: f32, b: f32) -> f32 { return select(a, b, b > a || is_nan(b)); }

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = group_index(wid, nwg);
  if (row >= P(0u)) { return; }
  let cols = P(1u);
  let base = P(2u) + row * cols;
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
