/**
 * The List floor's server (list_floor.ts): the daemon's CriServer with nothing behind it,
 * answering ListPodSandbox and ListContainers with the items in a JSON file.
 * `list_floor_server.ts SOCKET ITEMS_JSON`; list_floor.ts runs it bundled, as the daemon runs.
 * Once listening it releases its executable's start-up pages through libc, as the daemon does at
 * the end of its start (src/util/startup_pages.ts), so its RSS stays the floor of the daemon's.
 */
import { Logger } from "../src/log.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriServer } from "../src/cri/server.ts";
import { dropExecutablePages } from "../src/util/startup_pages.ts";
import type { ListItems } from "./list_floor.ts";

async function serve(socket: string, itemsFile: string): Promise<void> {
  const items = JSON.parse(await Deno.readTextFile(itemsFile)) as ListItems;
  // Frozen like the daemon's views, so the encoder reuses item bytes as it does for the daemon.
  const pods = items.pods.map((p) => Object.freeze(p));
  const containers = items.containers.map((c) => Object.freeze(c));
  const server = new CriServer({
    socket,
    schema: loadSchema(),
    handlers: {
      RuntimeService: {
        ListPodSandbox: () => Promise.resolve({ items: [...pods] }),
        ListContainers: () => Promise.resolve({ containers: [...containers] }),
      },
      ImageService: {},
    },
    log: new Logger({ sink: { write() {} } }),
    maxRecvBytes: 16 << 20,
    maxSendBytes: 16 << 20,
  });
  await server.listen();
  dropExecutablePages();
  const stop = () => server.close().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) {
  const [socket, itemsFile] = Deno.args;
  if (!socket || !itemsFile) throw new Error("usage: list_floor_server.ts SOCKET ITEMS_JSON");
  await serve(socket, itemsFile);
}
