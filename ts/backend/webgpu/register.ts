// Registers the webgpu backend (filled in by the webgpu backend's files).
export {};
