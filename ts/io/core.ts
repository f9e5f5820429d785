// Checkpoints as bytes (browser-safe): parameter trees and optimizer state in safetensors.

export { encodeSafetensors, decodeSafetensors, parseSafetensorsHeader, type SafetensorsEntry } from './safetensors.js';
export { loadTree } from './tree-io.js';
