// Registers the native backend (filled in by the native backend's files).
export {};
