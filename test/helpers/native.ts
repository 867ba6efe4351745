// Native networks for a test file: every one it builds is disposed after each test, pass or fail.
import { afterEach } from "vitest";
import { native, type NativeNetwork, type NativeSpec } from "../../lib/native.js";

/** A constructor of NativeNetworks whose networks are all disposed after each test of the calling file. */
export function disposedAfterEach(): (spec: NativeSpec) => NativeNetwork {
  let nets: NativeNetwork[] = [];
  afterEach(() => {
    for (const net of nets) net.dispose();
    nets = [];
  });
  return (spec) => {
    const net = new (native().NativeNetwork)(spec);
    nets.push(net);
    return net;
  };
}
