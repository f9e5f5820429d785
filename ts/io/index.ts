// Checkpoints: parameter trees and optimizer state as safetensors files.

export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors, parseSafetensorsHeader, type SafetensorsEntry } from './safetensors.js';
export { loadTree } from './tree-io.js';
