// Elementwise family: unary, binary, where, cast and strided copy. The TS side generates the
// bindings (in0.., out0) and the scalar function `f`; this file holds the careful math and
// the three index walks (the generated BODY):
//   STRIDED  any views: out index -> coordinates -> one offset per operand (0 strides broadcast)
//   CONTIG   rank 1 after merging dims: in_k[off_k + i * stride_k] (stride 0 broadcasts)
//   VEC4     contiguous with 4-aligned offsets and n % 4 == 0: one vec4 load per operand
//   RUN      STRIDED on software adapters: runs of consecutive elements, no divisions
// Params: ELEMENTWISE_PARAMS (ts/backend/webgpu/params.ts): n, the merged dims (rank, shape),
// and per operand k (inputs, then the output) p_operand_offset(k) and p_operand_strides(k, d).

fn mg_expm1(x: f32) -> f32 {
  // exp(x) - 1 cancels for small x: use the series there.
  if (abs(x) < 1e-2) { return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * 0.008333334)))); }
  return exp(x) - 1.0;
}
fn mg_log1p(x: f32) -> f32 {
  if (abs(x) < 1e-2) { return x * (1.0 - x * (0.5 - x * (0.33333334 - x * (0.25 - x * 0.2)))); }
  return log(1.0 + x);
}
fn mg_tanh(x: f32) -> f32 {
  // Builtin tanh overflows to NaN on some drivers for large |x|; go through expm1 instead.
  let a = abs(x);
  if (a > 15.0) { return sign(x); }
  let t = mg_expm1(2.0 * a);
  return select(-1.0, 1.0, x >= 0.0) * t / (t + 2.0);
}
fn mg_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn mg_sign(x: f32) -> f32 { return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }
fn mg_pow(a: f32, b: f32) -> f32 {
  // JavaScript's Math.pow: pow(x, 0) = 1 even for NaN; negative bases need integer exponents.
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  if (b == 3.0) { return a * a * a; }
  if (b == 0.5) { return sqrt(a); }
  if (b == -1.0) { return 1.0 / a; }
  if (b == -2.0) { return 1.0 / (a * a); }
  if (a == 0.0) { return select(inf_f32(), 0.0, b > 0.0); }
  let r = exp2(b * log2(abs(a)));
  if (a > 0.0) { return r; }
  if (floor(b) != b) { return nan_f32(); }
  let odd = abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
  return select(r, -r, odd);
}
fn mg_max(a: f32, b: f32) -> f32 { return select(b, a, a >= b || is_nan(a)); }
fn mg_min(a: f32, b: f32) -> f32 { return select(b, a, a <= b || is_nan(a)); }
fn mg_idiv(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return 0 - a; }
  return a / b;
}

{{BINDINGS}}

{{FN}}

// Each thread handles elements i, i + stride, ... (stride = all threads of the grid): one
// element per thread on GPUs; software adapters get a capped grid, since each workgroup
// launch costs them more than a few more loop iterations.

//#if RUN
// Strided views on software adapters: each thread walks RUN consecutive elements, carrying
// coordinates and operand offsets from one element to the next (the generated WALK) instead
// of the STRIDED walk's division per dim per element: integer division is a per-lane loop
// on a CPU.
@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = (group_index(wid, nwg) * {{WG}}u + lid) * {{RUN}}u;
  let n = p_n();
  if (i0 >= n) { return; }
  let i1 = min(n, i0 + {{RUN}}u);
  {{WALK}}
}
//#else
//#if STRIDED
fn element(i: u32) {
  var o = array<i32, 4>(p_operand_offset(0u), p_operand_offset(1u), p_operand_offset(2u), p_operand_offset(3u));
  var rem = i;
  for (var d = p_rank(); d > 0u; d--) {
    let dim = p_shape(d - 1u);
    let c = i32(rem % dim);
    rem = rem / dim;
    for (var k = 0u; k < {{NOPS}}u; k++) { o[k] += c * p_operand_strides(k, d - 1u); }
  }
  {{BODY}}
}
//#else
fn element(i: u32) {
  {{BODY}}
}
//#endif

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let stride = nwg.x * nwg.y * {{WG}}u;
  for (var i = group_index(wid, nwg) * {{WG}}u + lid; i < p_n(); i += stride) { element(i); }
}
//#endif
