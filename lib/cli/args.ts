// Parses argv against the command's own flags. Hand-written rather than node:util parseArgs, which
// takes a value such as "-1" for an option and cannot say which command a flag belongs to.
import { commandNames, commands, type CommandName } from "./commands.js";
import { didYouMean } from "./suggest.js";
import { flags, isFlag, type FlagName, type FlagSpec } from "./flags.js";
import { UsageError } from "./usage-error.js";

export interface CommandLine {
  /** Undefined only with --help or --version. */
  command?: CommandName;
  file?: string;
  help: boolean;
  version: boolean;
  flags: Flags;
}

const dashed = (name: string) => `--${name}`;

/** Splits argv into the command, its FILE and its flags, and rejects anything the command does not take. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const given = new Map<string, string | true>();
  const positionals: string[] = [];
  let help = false, version = false, unknown: string | undefined;
  // Reported once the command is known, so the message can name it.
  let problem: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === "-h" || token === "--help") help = true;
    else if (token === "--version") version = true;
    else if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      let value: string | true = eq < 0 ? true : token.slice(eq + 1);
      if (!isFlag(name)) {
        unknown ??= `--${name}`;
        continue;
      }
      const spec: FlagSpec = flags[name];
      if (spec.kind === "boolean") {
        if (value !== true) problem ??= `${dashed(name)} takes no value, got ${JSON.stringify(value)}`;
      } else if (value === true) {
        // The next word is the value whatever it looks like ("-1", "-"), unless it is another flag.
        const next = argv[i + 1];
        if (next === undefined || next.startsWith("--")) {
          problem ??= `${dashed(name)} needs a value`;
          continue;
        }
        value = next;
        i++;
      }
      if (value === "") problem ??= `${dashed(name)} needs a value, got an empty string`;
      if (given.has(name)) problem ??= `${dashed(name)} is given twice; give it once`;
      given.set(name, value);
    } else if (token.startsWith("-") && token.length > 1 && Number.isNaN(Number(token))) {
      unknown ??= token;
    } else positionals.push(token);
  }
  if (positionals[0] === "help") return { help: true, version, flags: new Flags(given), command: commandNamed(positionals[1]) };
  if (help || version) return { help, version, flags: new Flags(given), command: commandNamed(positionals[0]) };

  const name = requireCommand(positionals[0]);
  const spec = commands[name];
  if (unknown !== undefined)
    throw new UsageError(`unknown option ${unknown}${didYouMean(unknown.replace(/^-+/, ""), spec.flags, dashed)}`, name);
  if (problem !== undefined) throw new UsageError(problem, name);
  for (const flag of given.keys() as Iterable<FlagName>) {
    if (!(spec.flags as readonly string[]).includes(flag)) {
      const owners = commandNames.filter((c) => (commands[c].flags as readonly string[]).includes(flag)).map((c) => `deepr ${c}`);
      throw new UsageError(
        `${dashed(flag)} does not apply to deepr ${name} (it is an option of ${owners.join(" and ")}); ` +
          `deepr ${name} takes ${spec.flags.map(dashed).join(", ")}`,
        name,
        true,
      );
    }
  }
  const parsed = new Flags(given);
  // Malformed values are reported now, before anything is loaded or trained.
  try {
    for (const flag of given.keys() as Iterable<FlagName>) {
      const kind = (flags[flag] as FlagSpec).kind;
      if (kind === "number") parsed.number(flag);
      else if (kind === "list") parsed.list(flag);
      else if (kind === "choice") parsed.choice(flag);
    }
  } catch (e) {
    if (e instanceof UsageError) e.command = name;
    throw e;
  }
  const rest = positionals.slice(1);
  if (spec.file && (rest.length === 0 || rest[0] === "")) throw new UsageError("FILE is missing", name, true);
  const expected = spec.file ? 1 : 0;
  if (rest.length > expected)
    throw new UsageError(`unexpected argument ${JSON.stringify(rest[expected])}`, name, true);
  return { command: name, file: spec.file ? rest[0] : undefined, help, version, flags: parsed };
}

function commandNamed(word: string | undefined): CommandName | undefined {
  return (commandNames as (string | undefined)[]).includes(word) ? (word as CommandName) : undefined;
}

function requireCommand(word: string | undefined): CommandName {
  const name = commandNamed(word);
  if (name !== undefined) return name;
  if (word === undefined) throw new UsageError(`a command is required: ${commandNames.join(", ")}`);
  throw new UsageError(`unknown command ${JSON.stringify(word)}${didYouMean(word, commandNames) || `; the commands are ${commandNames.join(", ")}`}`);
}

/** The flags as given, with typed accessors that reject malformed values. */
export class Flags {
  constructor(readonly given: ReadonlyMap<string, string | true>) {}

  has(name: FlagName): boolean {
    return this.given.has(name);
  }

  /** The text of a value flag, as typed. */
  text(name: FlagName): string | undefined {
    const value = this.given.get(name);
    return value === true ? undefined : value;
  }

  boolean(name: FlagName): boolean | undefined {
    return this.given.has(name) ? true : undefined;
  }

  /** A number flag's value; its range is checked where it is used (the API's checks, translated). */
  number(name: FlagName): number | undefined {
    const text = this.text(name);
    return text === undefined ? undefined : toNumber(name, text);
  }

  /** A comma-separated list of numbers. */
  list(name: FlagName): number[] | undefined {
    return this.text(name)?.split(",").map((part) => toNumber(name, part));
  }

  /** A choice flag's value, checked against its choices. */
  choice<T extends string>(name: FlagName): T | undefined {
    const text = this.text(name);
    const choices = (flags[name] as FlagSpec).choices ?? [];
    if (text !== undefined && !choices.includes(text))
      throw new UsageError(`${dashed(name)} must be ${oneOf(choices)}, got ${JSON.stringify(text)}${didYouMean(text, choices)}`);
    return text as T | undefined;
  }

  /** "--layers 100,50,10 --lr 0.1", for messages that name what the user typed. */
  describe(names: readonly FlagName[]): string {
    return names.filter((n) => this.given.has(n)).map((n) => this.show(n)).join(" ");
  }

  show(name: FlagName): string {
    const value = this.given.get(name);
    return value === undefined || value === true ? dashed(name) : `${dashed(name)} ${value}`;
  }
}

/** "a or b", "a, b or c". */
function oneOf(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join("") : `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`;
}

function toNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new UsageError(`${dashed(name)} must be a number, got ${JSON.stringify(text)}`);
  return value;
}
