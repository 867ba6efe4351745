// A mistake in the command line, as opposed to a failure while running a correct one.
import type { CommandName } from "./commands.js";

/**
 * Reported with exit code 2 and a pointer to `--help`; `showUsage` adds the command's usage line.
 * `command` is the command it concerns, set when the command line named one.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    public command?: CommandName,
    readonly showUsage = false,
  ) {
    super(message);
  }
}
