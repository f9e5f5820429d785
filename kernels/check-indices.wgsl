// The deferred index check (ts/backend/webgpu/index-check.ts): every int32 index of a
// strided view must lie in [0, limit). A bad one stores its check's id in flag[0] with
// atomicMin, so the earliest failing check wins, and its value in flag[1] (written only by
// that check). The next read or sync reads the flag and raises the error on the host.
// Params: 0 n, 1 rank, 2..9 shape, 10..17 strides, 18 offset, 19 limit, 20 check id.

@group(0) @binding(1) var<storage, read> ind: array<i32>;
@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= P(0u)) { return; }
  var off = P(18u);
  var rem = i;
  for (var d = P(1u); d > 0u; d--) {
    let dd = d - 1u;
    off += (rem % P(2u + dd)) * P(10u + dd);
    rem = rem / P(2u + dd);
  }
  let v = ind[off];
  if (v < 0 || v >= i32(P(19u))) {
    let id = P(20u);
    if (atomicMin(&flag[0], id) >= id) { atomicStore(&flag[1], bitcast<u32>(v)); }
  }
}
