// What a Linux shared object needs before it can load: the architecture its ELF header names and
// the glibc and libstdc++ symbol versions it asks for (its .gnu.version_r section). The loader
// uses this to say why a binary does not fit, in words, instead of the dynamic linker's message.
import { readFileSync } from "node:fs";

export interface ElfNeeds {
  /** Node's name for the architecture (process.arch), or "machine <n>" for one Node does not run on. */
  arch: string;
  /** The highest version asked for per symbol-version family: { GLIBC: "2.34", GLIBCXX: "3.4.30" }. */
  versions: Record<string, string>;
}

/** e_machine values of the architectures Node runs on Linux (System V ABI, "Machine" table). */
const MACHINES: Record<number, string> = { 3: "ia32", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x64", 183: "arm64", 243: "riscv64", 258: "loong64" };
const SHT_GNU_VERNEED = 0x6ffffffe;

/** Compares dotted version numbers ("2.9" < "2.34"). */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * Reads `path`'s ELF header and version needs; undefined when the file is not an ELF object.
 * Versions are read from 64-bit little-endian objects (every architecture deepr ships for);
 * for others only the architecture is reported.
 */
export function readElfNeeds(path: string): ElfNeeds | undefined {
  const bytes = readFileSync(path);
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const machine = little ? bytes.readUInt16LE(18) : bytes.readUInt16BE(18);
  const arch = MACHINES[machine] ?? `machine ${machine}`;
  if (!is64 || !little) return { arch, versions: {} };

  const sectionsAt = Number(bytes.readBigUInt64LE(40));
  const sectionSize = bytes.readUInt16LE(58);
  const sectionCount = bytes.readUInt16LE(60);
  const section = (i: number) => {
    const at = sectionsAt + i * sectionSize;
    return { type: bytes.readUInt32LE(at + 4), offset: Number(bytes.readBigUInt64LE(at + 24)), link: bytes.readUInt32LE(at + 40), info: bytes.readUInt32LE(at + 44) };
  };
  const versions: Record<string, string> = {};
  for (let i = 0; i < sectionCount && sectionsAt + (i + 1) * sectionSize <= bytes.length; i++) {
    const needs = section(i);
    if (needs.type !== SHT_GNU_VERNEED) continue;
    const strings = section(needs.link).offset;
    const name = (at: number) => bytes.toString("latin1", strings + at, bytes.indexOf(0, strings + at));
    // Verneed entries (one per library, sh_info of them), each with a chain of Vernaux entries (one per version).
    for (let entry = needs.offset, n = 0; n < needs.info; n++) {
      let aux = entry + bytes.readUInt32LE(entry + 8);
      for (let k = 0; k < bytes.readUInt16LE(entry + 2); k++) {
        const [family, version] = name(bytes.readUInt32LE(aux + 8)).split("_");
        if (version !== undefined && /^[\d.]+$/.test(version) && (!versions[family] || compareVersions(version, versions[family]) > 0))
          versions[family] = version;
        aux += bytes.readUInt32LE(aux + 12);
      }
      entry += bytes.readUInt32LE(entry + 12);
    }
  }
  return { arch, versions };
}
