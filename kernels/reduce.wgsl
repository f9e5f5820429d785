// Reductions over any axes, and argmax/argmin. The view is split (TS side) into kept dims
// (one output each) and reduced dims; both lists are coalesced, so the common cases walk a
// single stride. Two shapes of work:
//   ROW     a workgroup per (output, chunk): strided loads, then a tree in workgroup memory.
//           With chunks > 1 the results are partials [outer, chunks], reduced again by TS.
//   THREAD  a thread per (output, chunk), looping over the reduced elements: small inner
//           sizes, and everything on software adapters (no barriers). VEC (no ARG): the
//           reduced elements are contiguous and aligned, read as vec4s in the same order.
//           RED2 (no ARG): two reduced dims walked with a carry, no divisions.
// Params: REDUCE_PARAMS (ts/backend/webgpu/params.ts); dims 0 are the kept dims, dims 1 the
// reduced ones (rank, shape, strides).
// ACC is f32 (float inputs, f16 included) or i32; COMBINE/IDENTITY come from TS.

//#if VEC
@group(0) @binding(1) var<storage, read> x: array<vec4<{{T}}>>;
//#else
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
//#endif
//#if ARG
@group(0) @binding(2) var<storage, read_write> out0: array<i32>;
//#else
@group(0) @binding(2) var<storage, read_write> out0: array<{{T}}>;
//#endif

// Offset of flat index i in dims list g (0 kept, 1 reduced), innermost dim fastest.
fn walk_offset(i: u32, g: u32) -> u32 {
  var o = 0u;
  var rem = i;
  for (var d = p_dims_rank(g); d > 0u; d--) {
    let dim = p_dims_shape(g, d - 1u);
    o += (rem % dim) * p_dims_strides(g, d - 1u);
    rem = rem / dim;
  }
  return o;
}
fn kept_offset(r: u32) -> u32 { return p_offset() + walk_offset(r, 0u); }
fn red_offset(j: u32) -> u32 {
  if (p_dims_rank(1u) == 1u) { return j * p_dims_strides(1u, 0u); }
  return walk_offset(j, 1u);
}
fn combine(a: {{ACC}}, b: {{ACC}}) -> {{ACC}} { return {{COMBINE}}; }
// Work item g reduces elements [j0, j1) of output g / chunks, whose kept offset is base.
struct Span { base: u32, j0: u32, j1: u32 }
fn span(g: u32) -> Span {
  let j0 = (g % p_chunks()) * p_chunkLen();
  return Span(kept_offset(g / p_chunks()), j0, min(p_inner(), j0 + p_chunkLen()));
}

//#if ARG
// (value, index) pairs: larger (argmax) or smaller (argmin) wins, ties to the lower index;
// the first NaN beats every number (PyTorch, numpy), so a NaN can be found.
fn better(v: {{ACC}}, i: u32, bv: {{ACC}}, bi: u32) -> bool {
  //#if FLOAT
  if (is_nan(f32(bv))) { return is_nan(f32(v)) && i < bi; }
  if (is_nan(f32(v))) { return true; }
  //#endif
  return {{BETTER}} || (v == bv && i < bi);
}
fn load_arg(base: u32, j: u32) -> {{ACC}} { return {{ACC}}(x[base + red_offset(j)]); }
//#endif

//#if ROW
var<workgroup> sv: array<{{ACC}}, 256>;
//#if ARG
var<workgroup> si: array<u32, 256>;
//#endif
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = group_index(wid, nwg);
  if (g >= p_outer() * p_chunks()) { return; }
  let sp = span(g);
  let base = sp.base; let j0 = sp.j0; let j1 = sp.j1;
  //#if ARG
  var bv: {{ACC}} = {{WORST}};
  var bi = 0xffffffffu;
  for (var j = j0 + lid; j < j1; j += 256u) {
    let v = load_arg(base, j);
    if (better(v, j, bv, bi)) { bv = v; bi = j; }
  }
  sv[lid] = bv;
  si[lid] = bi;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s && better(sv[lid + s], si[lid + s], sv[lid], si[lid])) {
      sv[lid] = sv[lid + s];
      si[lid] = si[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { out0[g] = i32(si[0]); }
  //#else
  var acc: {{ACC}} = {{IDENTITY}};
  for (var j = j0 + lid; j < j1; j += 256u) { acc = combine(acc, {{ACC}}(x[base + red_offset(j)])); }
  sv[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { sv[lid] = combine(sv[lid], sv[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { out0[g] = {{T}}(sv[0]); }
  //#endif
}
//#endif

//#if THREAD
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = group_index(wid, nwg) * 64u + lid;
  if (g >= p_outer() * p_chunks()) { return; }
  let sp = span(g);
  let base = sp.base; let j0 = sp.j0; let j1 = sp.j1;
  //#if ARG
  var bv: {{ACC}} = {{WORST}};
  var bi = 0xffffffffu;
  for (var j = j0; j < j1; j++) {
    let v = load_arg(base, j);
    if (better(v, j, bv, bi)) { bv = v; bi = j; }
  }
  out0[g] = i32(bi);
  //#else
  var acc: {{ACC}} = {{IDENTITY}};
  //#if VEC
  for (var j = j0; j < j1; j += 4u) {
    let v = x[(base + j) >> 2u];
    acc = combine(combine(combine(combine(acc, {{ACC}}(v.x)), {{ACC}}(v.y)), {{ACC}}(v.z)), {{ACC}}(v.w));
  }
  //#else
  //#if RED2
  // Two reduced dims (a batch-norm's N and H·W): walk them with a carry instead of a
  // division per element (integer division is a per-lane loop on a CPU).
  let d1 = p_dims_shape(1u, 1u);
  let s0 = p_dims_strides(1u, 0u);
  let s1 = p_dims_strides(1u, 1u);
  var a = j0 / d1;
  var c = j0 % d1;
  var off = base + a * s0 + c * s1;
  for (var j = j0; j < j1; j++) {
    acc = combine(acc, {{ACC}}(x[off]));
    c++;
    off += s1;
    if (c == d1) { c = 0u; a++; off = base + a * s0; }
  }
  //#else
  for (var j = j0; j < j1; j++) { acc = combine(acc, {{ACC}}(x[base + red_offset(j)])); }
  //#endif
  //#endif
  out0[g] = {{T}}(acc);
  //#endif
}
//#endif
