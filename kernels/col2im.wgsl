// col2im for conv2d's input gradient on software adapters: dx[n0 + nl, ci, iy, ix] is the sum
// of dcols[nl, (ci, ky, kx), (oy, ox)] over the taps that read (iy, ix), i.e. over
// oy·strideH + ky·dilationH - padH = iy (and the same along x). dcols = Wᵀ · dy comes from
// the barrier-free GEMM. Gathering (not scattering) keeps it deterministic and atomic-free.
// One invocation per dx row (nl, ci, iy); sums in f32. UNIT_STRIDE drops the integer
// divisions (a per-lane loop of idiv on a CPU) for the common stride-1 case.
// Params: UNFOLD_PARAMS (ts/backend/webgpu/params.ts).
@group(0) @binding(1) var<storage, read> dcols: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> dx: array<{{T}}>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = group_index(wid, nwg) * 64u + lid;
  if (row >= p_rows()) { return; }
  let cIn = p_cIn(); let h = p_h(); let w = p_w(); let kh = p_kh(); let kw = p_kw(); let oh = p_oh(); let ow = p_ow();
  let sy = i32(p_strideH()); let sx = i32(p_strideW());
  let iy = row % h;
  let ci = (row / h) % cIn;
  let nl = row / (h * cIn);
  let ohw = oh * ow;
  let chan0 = (nl * cIn + ci) * kh * kw * ohw;
  let out0 = ((p_n0() + nl) * cIn + ci) * h * w + iy * w;
  for (var ix = 0u; ix < w; ix++) {
    var acc = 0.0;
    for (var ky = 0u; ky < kh; ky++) {
      let ty = i32(iy + p_padH()) - i32(ky * p_dilationH());
      //#if UNIT_STRIDE
      if (ty < 0 || ty >= i32(oh)) { continue; }
      let rowBase = chan0 + ky * kw * ohw + u32(ty) * ow;
      //#else
      if (ty < 0 || ty % sy != 0 || ty / sy >= i32(oh)) { continue; }
      let rowBase = chan0 + ky * kw * ohw + u32(ty / sy) * ow;
      //#endif
      for (var kx = 0u; kx < kw; kx++) {
        let tx = i32(ix + p_padW()) - i32(kx * p_dilationW());
        //#if UNIT_STRIDE
        if (tx < 0 || tx >= i32(ow)) { continue; }
        acc += f32(dcols[rowBase + kx * ohw + u32(tx)]);
        //#else
        if (tx < 0 || tx % sx != 0 || tx / sx >= i32(ow)) { continue; }
        acc += f32(dcols[rowBase + kx * ohw + u32(tx / sx)]);
        //#endif
      }
    }
    dx[out0 + ix] = {{T}}(acc);
  }
}
