/** A model that cannot be exported; the message names the file and the problem. */
export class ExportError extends Error {
  readonly code = "DEEPR_EXPORT_FAILED";
  override name = "ExportError";
}
