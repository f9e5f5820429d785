// Shared by every kernel: the params uniform (64 u32 words per dispatch, read with P/PI/PF),
// a NaN test that no fast-math can fold away, and the flat index of a workgroup in a 2-D
// grid (large dispatches are split over x and y to respect maxComputeWorkgroupsPerDimension).
struct Params { v: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> params: Params;
fn P(i: u32) -> u32 { return params.v[i >> 2u][i & 3u]; }
fn PI(i: u32) -> i32 { return bitcast<i32>(P(i)); }
fn PF(i: u32) -> f32 { return bitcast<f32>(P(i)); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// NaN and inf cannot be constant expressions in WGSL; a `let` keeps them run-time values.
fn nan_f32() -> f32 { let bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn inf_f32() -> f32 { let bits = 0x7f800000u; return bitcast<f32>(bits); }
fn group_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.y * nwg.x + wid.x; }
