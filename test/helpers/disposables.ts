// Models and networks a test file builds: every one pushed is disposed after each test, pass or fail.
import { afterEach } from "vitest";

/** A list whose items are disposed after each test of the calling file (then emptied). */
export function disposables<T extends { dispose(): void }>(): T[] {
  const items: T[] = [];
  afterEach(() => {
    for (const item of items.splice(0)) item.dispose();
  });
  return items;
}
