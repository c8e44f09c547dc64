/**
 * A client connection as the gRPC server sees it: the socket, with the client's GOAWAY frames taken
 * out of what it reads (see goaway_filter.ts for why). Writes, end and destroy go straight through;
 * back-pressure is kept in both directions.
 */
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import { ClientGoawayFilter } from "./goaway_filter.ts";

export function filteredConnection(socket: Socket): Duplex {
  const filter = new ClientGoawayFilter();
  const conn: Duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, done) {
      if (socket.write(chunk)) done();
      else socket.once("drain", () => done());
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      socket.destroy();
      done(err);
    },
  });
  socket.on("data", (chunk: Buffer) => {
    let more = true;
    for (const part of filter.push(chunk)) {
      more = conn.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    }
    if (!more) socket.pause();
  });
  socket.on("end", () => conn.push(null));
  socket.on("error", (err) => conn.destroy(err));
  socket.on("close", () => conn.destroy());
  return conn;
}
