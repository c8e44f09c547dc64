import { assertEquals } from "../testing/asserts.ts";
import { parseCriLog } from "./cri_log.ts";

const enc = new TextEncoder();
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("parseCriLog() rebuilds stdout and stderr from full and partial lines", () => {
  const cases: [string, string, string, number?][] = [
    ["2024-01-01T00:00:00.000000000Z stdout F hi\n", "hi\n", ""],
    ["t stdout P ab\nt stdout F cd\nt stderr F oops\n", "abcd\n", "oops\n"],
    ["t stdout P no newline at the end\n", "no newline at the end", ""],
    ["t stdout F \nt stdout F x y  z\n", "\nx y  z\n", ""],
    ["garbage\nt other F x\nt stdout F ok\n", "ok\n", ""],
    ["t stdout F torn", "torn\n", ""],
    ["t stdout F 0123456789\nt stderr F abc\n", "0123", "abc\n", 4],
  ];
  for (const [log, out, err, cap] of cases) {
    const r = parseCriLog(enc.encode(log), cap);
    assertEquals([dec(r.stdout), dec(r.stderr)], [out, err], JSON.stringify(log));
  }
});

Deno.test("parseCriLog() keeps binary content byte for byte", () => {
  const bytes = new Uint8Array([0, 255, 32, 7]);
  const log = new Uint8Array([...enc.encode("t stdout P "), ...bytes, 0x0a]);
  assertEquals(parseCriLog(log).stdout, bytes);
});
