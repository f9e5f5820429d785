// Set-up shared by the WebGPU benches: one Dawn instance whose navigator.gpu metagrad, tfjs
// and jax-js all find (so they run on the same adapter), tfjs-webgpu on it, and how to wait
// until tfjs has finished what it queued.
/// <reference types="@webgpu/types" />

/** Install Dawn's WebGPU globals and a navigator.gpu in this Node process. */
export async function installDawn(): Promise<void> {
  const { create, globals } = (await import('webgpu')) as unknown as { create: (f: string[]) => GPU; globals: object };
  Object.assign(globalThis, globals);
  (globalThis as any).navigator = { gpu: create([]), userAgent: 'node' };
}

/** tfjs-core on its webgpu backend; `ok` is false (with the reason printed) when it cannot start. */
export async function loadTfjsWebgpu(): Promise<{ tf: any; ok: boolean }> {
  const tf: any = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  try {
    const ok: boolean = await tf.setBackend('webgpu');
    await tf.ready();
    return { tf, ok };
  } catch (e) {
    console.log(`tfjs-webgpu unavailable: ${e instanceof Error ? e.message : String(e)}`);
    return { tf, ok: false };
  }
}

/** Wait for tfjs's queued work: it keeps a compute pass open, so close it and submit first. */
export async function tfjsFinish(tf: any): Promise<void> {
  const b = tf.backend();
  if (b.commandEncoder) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  await b.device.queue.onSubmittedWorkDone();
}
