// An assertion on the exact error a call throws: its class and its whole message.
import { expect } from "vitest";

/** Asserts `call` throws exactly `type` with exactly `message`. */
export function throwsExactly(call: () => unknown, type: typeof TypeError | typeof RangeError, message: string): void {
  let caught: unknown;
  try {
    call();
  } catch (e) {
    caught = e;
  }
  expect(caught, message).toBeInstanceOf(type);
  expect((caught as Error).message).toBe(message);
}
