// fill: every element set to one value (params: FILL_PARAMS, ts/backend/webgpu/params.ts: vec4s = ceil(n / 4), the value).
// Written as vec4 stores; storages are padded to whole size classes, so the tail fits.
@group(0) @binding(1) var<storage, read_write> out0: array<vec4<{{T}}>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = group_index(wid, nwg) * 256u + lid;
  if (i >= p_vec4s()) { return; }
  out0[i] = vec4<{{T}}>({{VALUE}});
}
