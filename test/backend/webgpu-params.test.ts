// The named kernel parameters (ts/backend/webgpu/params.ts), without a GPU: a layout's fields
// get consecutive words and typed WGSL accessors, fill writes the same bits the kernels read,
// and every kernel file reads its parameters only through accessors its layouts declare.

import test from 'tape';
import { KERNEL_PARAMS, ParamLayout, paramAccessors, ELEMENTWISE_PARAMS, REDUCE_PARAMS } from '../../ts/backend/webgpu/params.js';
import { KERNEL_SOURCES } from '../../ts/backend/webgpu/kernel-sources.js';
import { KERNEL_FILES } from '../../ts/backend/webgpu/source.js';

test('webgpu params: fields in order, typed accessors, groups', (t) => {
  const l = new ParamLayout('demo', { n: 'u32', shift: 'i32', eps: 'f32', shape: ['u32', 3], op: { repeat: 2, fields: { offset: 'i32', strides: ['i32', 2] } }, last: 'u32' });
  t.equal(l.words, 1 + 1 + 1 + 3 + 2 * 3 + 1, 'words counted');
  t.ok(l.wgsl.includes('fn p_n() -> u32 { return P(0u); }'), 'u32 scalar at word 0');
  t.ok(l.wgsl.includes('fn p_shift() -> i32 { return PI(1u); }'), 'i32 scalar through PI');
  t.ok(l.wgsl.includes('fn p_eps() -> f32 { return PF(2u); }'), 'f32 scalar through PF');
  t.ok(l.wgsl.includes('fn p_shape(i: u32) -> u32 { return P(3u + i); }'), 'array accessor');
  t.ok(l.wgsl.includes('fn p_op_offset(k: u32) -> i32 { return PI(6u + k * 3u); }'), 'group scalar accessor');
  t.ok(l.wgsl.includes('fn p_op_strides(k: u32, i: u32) -> i32 { return PI(7u + k * 3u + i); }'), 'group array accessor');
  t.ok(l.wgsl.includes('fn p_last() -> u32 { return P(12u); }'), 'fields after a group');
  const p = l.fill({ n: 7, shift: -3, eps: 1e-5, shape: [4, 5], op: [{ offset: 2, strides: [-1, 9] }, { offset: -8, strides: [3] }], last: 42 });
  const i32 = new Int32Array(p.buffer), f32 = new Float32Array(p.buffer);
  t.deepEqual([p[0], i32[1], f32[2]], [7, -3, Math.fround(1e-5)], 'scalars keep their bits');
  t.deepEqual(Array.from(p.slice(3, 6)), [4, 5, 0], 'a short array leaves the tail 0');
  t.deepEqual(Array.from(i32.slice(6, 12)), [2, -1, 9, -8, 3, 0], 'groups at their stride');
  t.equal(p[12], 42, 'the field after the group');
  t.equal(p.length, 64, 'a whole params block');
  t.throws(() => l.fill({ n: 1, shift: 0, eps: 0, shape: [1, 2, 3, 4], op: [], last: 0 }), /'shape' has room for 3 values, got 4/, 'an array too long is refused');
  t.throws(() => l.fill({ n: 1, shift: 0, eps: 0, shape: [], op: [{ offset: 0, strides: [] }, { offset: 0, strides: [] }, { offset: 0, strides: [] }], last: 0 }), /'op' has room for 2 entries, got 3/, 'too many group entries are refused');
  t.throws(() => l.fill({ n: 1, bogus: 2 } as never), /has no parameter 'bogus'/, 'an unknown field is refused');
  t.throws(() => new ParamLayout('big', { a: ['u32', 60], b: ['u32', 5] }), /need 65 words, more than the 64/, 'a layout larger than a params block is refused');
  t.end();
});

test('webgpu params: the layouts keep the words the kernels were written against', (t) => {
  // elementwise: n, rank, shape[8], then 4 operands of (offset, 8 strides) from word 10
  t.ok(ELEMENTWISE_PARAMS.wgsl.includes('fn p_operand_offset(k: u32) -> i32 { return PI(10u + k * 9u); }'), 'elementwise operands from word 10, 9 words apart');
  t.equal(ELEMENTWISE_PARAMS.words, 46, 'elementwise uses 46 words');
  t.ok(REDUCE_PARAMS.wgsl.includes('fn p_offset() -> u32 { return P(38u); }'), 'reduce: kept and reduced dims, then the offset at word 38');
  t.end();
});

test('webgpu params: every kernel reads its parameters through the accessors of its own layouts', (t) => {
  for (const file of KERNEL_FILES) {
    if (file === 'common') continue;
    const src = KERNEL_SOURCES[file]!;
    t.ok(KERNEL_PARAMS[file].length > 0, `${file}.wgsl has a parameter layout`);
    const positional = src.split('\n').filter((l) => !l.trim().startsWith('//') && /\b(P|PI|PF)\(/.test(l));
    t.deepEqual(positional, [], `${file}.wgsl reads no parameter by position`);
    const declared = new Set([...paramAccessors(file).matchAll(/^fn (\w+)/gm)].map((m) => m[1]));
    const used = new Set([...src.matchAll(/\b(p_\w+)\(/g)].map((m) => m[1]));
    const unknown = [...used].filter((u) => !declared.has(u));
    t.deepEqual(unknown, [], `${file}.wgsl uses only declared accessors (${used.size} used)`);
  }
  t.end();
});
