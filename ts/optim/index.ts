// optim: filled in by its own files; re-exported from ts/index.ts.
export {};
