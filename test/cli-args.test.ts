// The command-line parser on its own: each command's flags, values that look like options,
// "did you mean", and where a flag of another command is refused.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../lib/cli/args.js";
import { commands } from "../lib/cli/commands.js";
import { flagNames } from "../lib/cli/flags.js";
import { HELP } from "../lib/cli/help.js";
import { closest, editDistance } from "../lib/cli/suggest.js";
import { UsageError } from "../lib/cli/usage-error.js";

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
}

describe("parseCommandLine", () => {
  it("takes negative numbers and dash-led words as values, in both --flag value and --flag=value", () => {
    const line = parseCommandLine(["train", "--epochs", "-1", "--lr=-0.5", "--seed", "-3", "--out", "-", "--bias"]);
    expect(line.command).toBe("train");
    expect(line.flags.number("epochs")).toBe(-1);
    expect(line.flags.number("lr")).toBe(-0.5);
    expect(line.flags.number("seed")).toBe(-3);
    expect(line.flags.text("out")).toBe("-");
    expect(line.flags.boolean("bias")).toBe(true);
    expect(line.flags.list("layers")).toBeUndefined();
  });

  it("reads lists, choices and the FILE of eval and inspect, before or after the flags", () => {
    const train = parseCommandLine(["--layers", "784,-1,10", "train", "--lr-schedule", "cosine"]);
    expect(train.flags.list("layers")).toEqual([784, -1, 10]);
    expect(train.flags.choice("lr-schedule")).toBe("cosine");
    expect(parseCommandLine(["eval", "--json", "m.safetensors"])).toMatchObject({ command: "eval", file: "m.safetensors" });
    expect(parseCommandLine(["inspect", "--", "--odd-name"])).toMatchObject({ command: "inspect", file: "--odd-name" });
  });

  it("says FILE is missing for eval and inspect, with the command's usage", () => {
    for (const command of ["eval", "inspect"] as const) {
      const e = usageError([command]);
      expect(e.message).toBe("FILE is missing");
      expect(e).toMatchObject({ command, showUsage: true });
      expect(usageError([command, "a", "b"]).message).toBe('unexpected argument "b"');
      expect(usageError([command, ""]).message).toBe("FILE is missing");
    }
    expect(usageError(["train", "m.safetensors"]).message).toBe('unexpected argument "m.safetensors"');
  });

  it("suggests the nearest flag of the command for an unknown one", () => {
    expect(usageError(["train", "--epoch", "3"]).message).toBe("unknown option --epoch; did you mean --epochs?");
    expect(usageError(["train", "--lr-shedule", "cosine"]).message).toBe("unknown option --lr-shedule; did you mean --lr-schedule?");
    expect(usageError(["eval", "m", "--jsno"]).message).toBe("unknown option --jsno; did you mean --json?");
    expect(usageError(["train", "--frobnicate"]).message).toBe("unknown option --frobnicate");
    expect(usageError(["train", "-x"]).message).toBe("unknown option -x");
    expect(usageError(["trian"]).message).toBe('unknown command "trian"; did you mean train?');
    expect(usageError([]).message).toMatch(/a command is required: train, eval, inspect, info/);
  });

  it("refuses flags that belong to another command, naming it", () => {
    const e = usageError(["inspect", "m.safetensors", "--epochs", "3", "--lr", "9"]);
    expect(e.message).toBe("--epochs does not apply to deepr inspect (it is an option of deepr train); deepr inspect takes --json");
    expect(usageError(["eval", "m", "--out", "x"]).message).toMatch(/^--out does not apply to deepr eval .*takes --dataset, --data, --labels, --targets, --label-column, --normalize, --test-fraction, --threads, --json$/);
    expect(usageError(["info", "--threads", "2"]).message).toMatch(/^--threads does not apply to deepr info \(it is an option of deepr train and deepr eval\)/);
  });

  it("rejects malformed values, missing values, values on switches and repeated flags", () => {
    expect(usageError(["train", "--lr", "abc"]).message).toBe('--lr must be a number, got "abc"');
    expect(usageError(["train", "--layers", "784,,10"]).message).toBe('--layers must be a number, got ""');
    expect(usageError(["train", "--lr"]).message).toBe("--lr needs a value");
    expect(usageError(["train", "--out", "--json"]).message).toBe("--out needs a value");
    expect(usageError(["train", "--bias=yes"]).message).toBe('--bias takes no value, got "yes"');
    expect(usageError(["train", "--lr", "1", "--lr", "2"]).message).toBe("--lr is given twice; give it once");
    expect(usageError(["train", "--lr-schedule", "linear"]).message).toBe('--lr-schedule must be exponential or cosine, got "linear"');
    expect(usageError(["train", "--dataset", "cifar"]).message).toBe('--dataset must be mnist, cifar10 or file, got "cifar"; did you mean cifar10?');
  });

  it("lets --help and --version through whatever else is on the line", () => {
    expect(parseCommandLine(["eval", "--help", "--bogus"])).toMatchObject({ help: true, command: "eval" });
    expect(parseCommandLine(["--version"])).toMatchObject({ version: true, command: undefined });
    expect(parseCommandLine(["help", "train"])).toMatchObject({ help: true, command: "train" });
  });
});

describe("did you mean", () => {
  it("measures edit distance with swaps of neighbours counting 1 (known answers)", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("trian", "train")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("ca", "abc")).toBe(3);  // optimal string alignment: no edit of a swapped pair
    expect(editDistance("epochs", "epochs")).toBe(0);
  });

  it("suggests only what is near enough to be a typo", () => {
    expect(closest("epoch", ["epochs", "lr"])).toBe("epochs");
    expect(closest("lr", ["epochs", "lr-decay"])).toBeUndefined();
    expect(closest("bais", ["bias", "budget"])).toBe("bias");
    expect(closest("zzzz", ["json"])).toBeUndefined();
  });
});

describe("help", () => {
  it("lists exactly the flags the parser takes, and every command", () => {
    const shown = new Set([...HELP.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
    for (const flag of flagNames) expect(shown, flag).toContain(flag);
    for (const flag of shown) expect([...flagNames, "help", "version"], flag).toContain(flag);
    for (const command of Object.keys(commands)) expect(HELP).toContain(`deepr ${command}`);
  });
});
