// Indexing family: gather (take along an axis) and its transpose scatterAdd.
// Indices are validated by ts/ops: on the host where it can read them, else by the deferred
// check (check-indices.wgsl) that the next read raises. Here they are also clamped, so a
// bad index can never read or write outside a buffer.
// Params: INDEXING_PARAMS (ts/backend/webgpu/params.ts): n elements walked over shape, the
// axis and its length in the tensor indexed into, the source, index and (scatter) output
// views, and count, the length of the updates' axis (scatter by loop).
// WGSL has no float atomics: float32 scatter adds by compare-and-swap on the bits
// (SCATTER_CAS), int32 with atomicAdd (SCATTER_ATOMIC); float16 (no 16-bit atomics) walks
// the outputs and loops over the updates' axis (SCATTER_LOOP), which is deterministic.

@group(0) @binding(1) var<storage, read> src: array<{{T}}>;
@group(0) @binding(2) var<storage, read> ind: array<i32>;
//#if SCATTER_CAS
@group(0) @binding(3) var<storage, read_write> dst: array<atomic<u32>>;
//#else
//#if SCATTER_ATOMIC
@group(0) @binding(3) var<storage, read_write> dst: array<atomic<i32>>;
//#else
@group(0) @binding(3) var<storage, read_write> dst: array<{{T}}>;
//#endif
//#endif

fn clamp_index(v: i32) -> u32 { return u32(clamp(v, 0, i32(p_axisLength()) - 1)); }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= p_n()) { return; }
  let axis = p_axis();
  //#if SCATTER_LOOP
  // i walks the output; sum every update along the axis whose index lands on this element.
  var oo = 0u;
  var so = p_srcOffset();
  var io = p_idxOffset();
  var tgt = 0u;
  var rem = i;
  for (var d = p_rank(); d > 0u; d--) {
    let dd = d - 1u;
    let c = rem % p_shape(dd);
    rem = rem / p_shape(dd);
    if (dd == axis) { tgt = c; } else { so += c * p_srcStrides(dd); io += c * p_idxStrides(dd); }
  }
  var acc = 0.0;
  for (var j = 0u; j < p_count(); j++) {
    if (clamp_index(ind[io + j * p_idxStrides(axis)]) == tgt) { acc += f32(src[so + j * p_srcStrides(axis)]); }
  }
  dst[i] = {{T}}(acc);
  //#else
  // i walks the output (gather) or the updates (scatter).
  var so = p_srcOffset();
  var io = p_idxOffset();
  var od = 0u;
  var rem = i;
  for (var d = p_rank(); d > 0u; d--) {
    let dd = d - 1u;
    let c = rem % p_shape(dd);
    rem = rem / p_shape(dd);
    io += c * p_idxStrides(dd);
    //#if GATHER
    if (dd != axis) { so += c * p_srcStrides(dd); }
    //#else
    so += c * p_srcStrides(dd);
    if (dd != axis) { od += c * p_outStrides(dd); }
    //#endif
  }
  let j = clamp_index(ind[io]);
  //#if GATHER
  dst[i] = src[so + j * p_srcStrides(axis)];
  //#endif
  //#if SCATTER_ATOMIC
  atomicAdd(&dst[od + j * p_outStrides(axis)], src[so]);
  //#endif
  //#if SCATTER_CAS
  let p = od + j * p_outStrides(axis);
  let v = f32(src[so]);
  var old = atomicLoad(&dst[p]);
  loop {
    let r = atomicCompareExchangeWeak(&dst[p], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
  //#endif
  //#endif
}
