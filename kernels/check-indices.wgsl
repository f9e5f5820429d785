// The deferred index check (ts/backend/webgpu/index-check.ts): every int32 index of a
// strided view must lie in [0, limit). A bad one stores its check's id in flag[0] with
// atomicMin, so the earliest failing check wins, and its value in flag[1] (written only by
// that check). The next read or sync reads the flag and raises the error on the host.
// Params: CHECK_INDICES_PARAMS (ts/backend/webgpu/params.ts).

@group(0) @binding(1) var<storage, read> ind: array<i32>;
@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= p_n()) { return; }
  var off = p_offset();
  var rem = i;
  for (var d = p_rank(); d > 0u; d--) {
    let dd = d - 1u;
    off += (rem % p_shape(dd)) * p_strides(dd);
    rem = rem / p_shape(dd);
  }
  let v = ind[off];
  if (v < 0 || v >= i32(p_limit())) {
    let id = p_check();
    if (atomicMin(&flag[0], id) >= id) { atomicStore(&flag[1], bitcast<u32>(v)); }
  }
}
