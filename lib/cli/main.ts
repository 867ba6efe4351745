// Runs one command line: parse, dispatch, and report failures with the right exit status.
import { parseCommandLine, type CommandLine } from "./args.js";
import { commands } from "./commands.js";
import { evaluate } from "./evaluate.js";
import { experiment } from "./experiment.js";
import { exportModel } from "./export.js";
import { HELP } from "./help.js";
import { info, version } from "./info.js";
import { inspect } from "./inspect.js";
import { train } from "./train.js";
import { UsageError } from "./usage-error.js";

export async function main(argv: readonly string[]): Promise<void> {
  // The experiments parse their own arguments (experiments/run.mjs).
  if (argv[0] === "experiment") return experiment(argv.slice(1));
  const line = parseCommandLine(argv);
  if (line.help) return void process.stdout.write(HELP);
  if (line.version) return void console.log(version());
  try {
    await run(line);
  } catch (e) {
    if (e instanceof UsageError) e.command ??= line.command;
    throw e;
  }
}

function run({ command, file, flags }: CommandLine): Promise<void> | void {
  switch (command!) {
    case "train":
      return train(flags);
    case "eval":
      return evaluate(file!, flags);
    case "inspect":
      return inspect(file!, flags);
    case "info":
      return info(flags);
    case "export":
      return exportModel(file!, flags);
  }
}

/** Prints `deepr: <what went wrong>` (once, however the message began) and sets the exit status. */
export function reportFailure(error: unknown): void {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  const message = (error instanceof Error ? error.message : String(error)).replace(/^(deepr: )+/, "");
  if (error instanceof UsageError) {
    const usage = error.showUsage && error.command ? `\nUsage: ${commands[error.command].usage}` : "";
    const deepr = error.command ? `deepr ${error.command}` : "deepr";
    console.error(`${deepr}: ${message}${usage}\nRun \`${deepr} --help\` for the options.`);
    process.exitCode = 2;
  } else {
    console.error(`deepr: ${message}`);
    process.exitCode = process.exitCode || 1;
  }
}
