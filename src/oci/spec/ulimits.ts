/** crio.runtime.default_ulimits ("nofile=1024:2048", "nproc=512") as OCI rlimits. */
import { InvalidArgumentError } from "../../errors.ts";
import type { OciRlimit } from "./types.ts";

const NAMES = [
  "as",
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
];

export function parseUlimits(specs: readonly string[]): OciRlimit[] | undefined {
  if (!specs.length) return undefined;
  return specs.map((s) => {
    // Unlimited (-1) would need the exact 2^64-1, which a JSON number from JS cannot carry.
    const m = /^([a-z]+)=(\d+)(?::(\d+))?$/.exec(s.trim());
    if (!m || !NAMES.includes(m[1])) {
      throw new InvalidArgumentError(`default_ulimits entry ${JSON.stringify(s)} is invalid`);
    }
    const soft = Number(m[2]);
    const hard = m[3] === undefined ? soft : Number(m[3]);
    if (soft > hard) {
      throw new InvalidArgumentError(`default_ulimits entry ${JSON.stringify(s)}: soft > hard`);
    }
    return { type: `RLIMIT_${m[1].toUpperCase()}`, soft, hard };
  });
}
