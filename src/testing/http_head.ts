/** The test clients' side of an HTTP/1.1 upgrade: the response head, read byte by byte. */
import type { ByteReader } from "../storage/byte_reader.ts";

/** The head up to its blank line (or what arrived before the connection ended), and its status. */
export async function readResponseHead(
  reader: ByteReader,
): Promise<{ status: number; head: string }> {
  let head = "";
  while (!head.endsWith("\r\n\r\n")) {
    const b = await reader.exact(1);
    if (!b) break;
    head += String.fromCharCode(b[0]);
  }
  return { status: Number(head.split(" ")[1]), head };
}
