// Every failure metagrad reports is a MetagradError subclass, so callers can catch
// library errors as a family and still tell a shape mistake from a missing backend.

export class MetagradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the op: mismatched, wrong rank, out-of-range axes. */
export class ShapeError extends MetagradError {}

/** A dtype the op or backend cannot take (float labels, int inputs to a float op, ...). */
export class DTypeError extends MetagradError {}

/** An index outside its dimension (gather, takeAlongAxis, scatterAdd, oneHot, crossEntropy labels, embedding ids). */
export class IndexError extends ShapeError {}

/** The backend is missing, failed, or was asked for something it cannot do. */
export class BackendError extends MetagradError {}

/** Data on disk or from the user is malformed: corrupt files, bad values, missing folders. */
export class DataError extends MetagradError {}

/** Autodiff misuse: grad of a non-scalar without gradOutputs, inputs that do not require grad, released graphs. */
export class GradError extends MetagradError {}


/** A linear-algebra op got a matrix it cannot factor (cholesky / solve of a matrix that is not positive-definite). */
export class LinAlgError extends MetagradError {}

/** Use of a tensor after dispose(). */
export class DisposedError extends MetagradError {}

/** An argument or option value outside what it accepts: a learning rate, momentum, seed, norm bound, range, an unknown option key. */
export class ValueError extends MetagradError {}

/** Bad options or inputs to a meta-learner. */
export class MetaError extends MetagradError {}

/** Bad command-line flags, or a run folder the command cannot use. */
export class CliError extends MetagradError {}

/** What gradcheck / gradgradcheck found (ts/autodiff/gradcheck.ts). */
export interface GradcheckReport {
  ok: boolean;
  /** the worst element over all inputs */
  worst: { input: number; index: number; analytic: number; numeric: number; error: number; allowed: number } | null;
  checked: number;
}

/** A gradient that disagrees with finite differences; the report says where and by how much. */
export class GradcheckError extends MetagradError {
  constructor(message: string, readonly report: GradcheckReport) {
    super(message);
  }
}

export function fmtShape(shape: readonly number[]): string {
  // used in error messages: never throws, whatever it is given
  return Array.isArray(shape) ? `[${shape.join(', ')}]` : String(shape);
}
