// The error fit() rejects with when a batch's loss or update is not finite, and how the addon's
// rejection of such a batch is recognised.

/** A batch whose loss or update was not finite stopped fit() (see `FitOptions.onNonFinite`). */
export class NonFiniteError extends Error {
  readonly code = "DEEPR_NON_FINITE";
  override name = "NonFiniteError";
  constructor(
    message: string,
    /** 0-based epoch and batch within it. */
    readonly epoch: number,
    readonly batch: number,
    /** The step (parameter updates so far) the batch would have been. */
    readonly step: number,
    /** The layer whose update diverged; for a non-finite loss, the output layer. */
    readonly layer: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The layer named by the addon's rejection for a non-finite loss or a diverged update (cpp/non_finite_error.hpp), else undefined. */
export function nonFiniteLayer(error: unknown): number | undefined {
  const e = error as { code?: unknown; layer?: unknown } | null;
  return e?.code === "DEEPR_NON_FINITE" && typeof e.layer === "number" ? e.layer : undefined;
}
