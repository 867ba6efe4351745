// The checks every argument of the API is validated with, so each kind of value is checked one way
// and each error names the option and the value it got (a TypeError or RangeError). lib/options.ts
// and the layer kinds (lib/layers/) validate through these.

export const MAX_SEED = 2 ** 53 - 1;
/** The largest width, count or class index: what an int32 holds. */
export const MAX_SIZE = 2 ** 31 - 1;

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === "object") return `an object (${value.constructor?.name ?? "Object"})`;
  return String(value);
}

export function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${describe(value)}`);
  return value;
}

export function real(name: string, value: unknown, min: number, max: number, minOpen = false): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < min || value > max || (minOpen && value === min))
    throw new RangeError(`${name} must be a finite number in ${minOpen ? "(" : "["}${min}, ${max}], got ${describe(value)}`);
  return value;
}

export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new RangeError(`${name} must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${describe(value)}`);
  return value as T;
}

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${name} must be true or false, got ${describe(value)}`);
  return value;
}

export function object(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

/** Throws naming the first key of `given` that is not `known`; `of` names the function the options are for. */
export function rejectUnknown(name: string, given: object, known: readonly string[], of?: string): void {
  for (const key of Object.keys(given))
    if (!known.includes(key))
      throw new TypeError(`${name ? `${name}.` : ""}${key} is not an option${of ? ` of ${of}` : ""}; the options are ${known.join(", ")}`);
}

/** The values per sample of a sample shape. */
export const shapeSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

