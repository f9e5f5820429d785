// Checkpoints: parameter trees and optimizer state as safetensors bytes (./core.ts) and files (Node).

export * from './core.js';
export { saveSafetensors, loadSafetensors } from './safetensors-file.js';
