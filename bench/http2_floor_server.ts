/**
 * A List floor without grpc-js: Deno's node:http2 answering each List method with bytes encoded
 * before it started, framed as gRPC by hand (the 5-byte prefix, then grpc-status in trailers).
 * Beside the bare CriServer (grpc-js on this same node:http2) and the Go server of fixed answers
 * (bench/cri_list/serve.go), it tells the platform's time apart: what grpc-js adds, and what the
 * transport under it costs. Its connections pass the daemon's GOAWAY filter as the daemon's do
 * (src/cri/filtered_connection.ts; without it a client's GOAWAY can abort Deno's node:http2).
 * `http2_floor_server.ts SOCKET ANSWERS_DIR`, answers in ANSWERS_DIR/<Method>.bin; run by
 * transport_floors.ts.
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { Buffer } from "node:buffer";
import { createServer } from "node:net";
import { filteredConnection } from "../src/cri/filtered_connection.ts";
import { LIST_METHODS } from "./derive.ts";

const PREFIX = "/runtime.v1.RuntimeService/";

/** A gRPC message frame: uncompressed flag, big-endian length, then the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(message.length + 5);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

async function serve(socket: string, dir: string): Promise<void> {
  const answers = new Map<string, Buffer>();
  for (const m of LIST_METHODS) {
    answers.set(PREFIX + m, grpcFrame(await Deno.readFile(`${dir}/${m}.bin`)));
  }
  const server = http2.createServer();
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const answer = answers.get(String(headers[":path"]));
    // The request (an empty List request) is read to its end before answering, as grpc-js does.
    stream.on("data", () => {});
    stream.on("end", () => {
      if (!answer) {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
        waitForTrailers: true,
      });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(answer);
    });
  });
  const listener = createServer((conn) => server.emit("connection", filteredConnection(conn)));
  await new Promise<void>((resolve) => listener.listen(socket, resolve));
  Deno.addSignalListener("SIGTERM", () => {
    listener.close();
    Deno.removeSync(socket);
    Deno.exit(0);
  });
}

if (import.meta.main) {
  const [socket, dir] = Deno.args;
  if (!socket || !dir) throw new Error("usage: http2_floor_server.ts SOCKET ANSWERS_DIR");
  await serve(socket, dir);
}
