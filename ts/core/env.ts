// Environment variables: read from process.env in Node; a browser has none, so every
// override falls back to its default there.

/** The value of environment variable `name`, or undefined (unset, or no process). */
export function envVar(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env?.[name] : undefined;
}
