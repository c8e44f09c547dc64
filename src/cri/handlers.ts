/**
 * The table of implemented RPCs. Every RPC of the schema is registered by the server; one that is
 * absent here answers UNIMPLEMENTED naming itself.
 */
import type { ImageServiceHandlers, RuntimeServiceHandlers } from "./gen/api.ts";
import type { RuntimeInfo } from "../runtime/runtime_info.ts";
import type { ImageFilesystems } from "../image/image_fs.ts";
import type { ImageService } from "../image/image_service.ts";
import { imageFsInfo } from "./image_fs_info.ts";
import { imageStatus } from "./image_status.ts";
import { listImages } from "./list_images.ts";
import { pullImage } from "./pull_image.ts";
import { removeImage } from "./remove_image.ts";
import { runtimeConfig } from "./runtime_config.ts";
import { status } from "./status.ts";
import { updateRuntimeConfig } from "./update_runtime_config.ts";
import { version } from "./version.ts";
import type { Sandboxes } from "../runtime/sandbox/sandboxes.ts";
import { sandboxHandlers } from "./sandbox_handlers.ts";
import type { Containers } from "../runtime/container/containers.ts";
import { containerHandlers } from "./container_handlers.ts";
import type { StreamServer } from "../stream/server.ts";
import { streamHandlers } from "./stream_handlers.ts";

export interface Services {
  runtimeInfo: RuntimeInfo;
  imageFilesystems: ImageFilesystems;
  images: ImageService;
  /** Pod sandboxes (issue #4); absent in tests that serve runtime info only. */
  sandboxes?: Sandboxes;
  /** Containers (issue #5); absent where sandboxes are. */
  containers?: Containers;
  /** The streaming server (issue #6); Exec, Attach and PortForward hand out its URLs. */
  stream?: StreamServer;
}

export interface HandlerTable {
  RuntimeService: Partial<RuntimeServiceHandlers>;
  ImageService: Partial<ImageServiceHandlers>;
}

export function buildHandlers(s: Services): HandlerTable {
  return {
    RuntimeService: {
      Version: version(s.runtimeInfo),
      Status: status(s.runtimeInfo),
      RuntimeConfig: runtimeConfig(s.runtimeInfo),
      UpdateRuntimeConfig: updateRuntimeConfig(s.runtimeInfo),
      ...(s.sandboxes ? sandboxHandlers(s.sandboxes) : {}),
      ...(s.containers ? containerHandlers(s.containers) : {}),
      ...(s.stream && s.containers && s.sandboxes
        ? streamHandlers({ containers: s.containers, sandboxes: s.sandboxes }, s.stream)
        : {}),
    },
    ImageService: {
      ImageFsInfo: imageFsInfo(s.imageFilesystems),
      PullImage: pullImage(s.images),
      ImageStatus: imageStatus(s.images),
      ListImages: listImages(s.images),
      RemoveImage: removeImage(s.images),
    },
  };
}
