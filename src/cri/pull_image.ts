import { InvalidArgumentError } from "../errors.ts";
import type { ImageService } from "../image/image_service.ts";
import type { ImageServiceHandlers } from "./gen/api.ts";

/** PullImage answers the image ID (config digest hex), the same value Image.id carries. */
export function pullImage(images: ImageService): ImageServiceHandlers["PullImage"] {
  return async (req, ctx) => {
    const name = req.image?.image ?? "";
    if (name === "") throw new InvalidArgumentError("image.image is required");
    const rec = await images.pull(name, {
      auth: req.auth,
      signal: ctx.signal,
      namespace: req.sandboxConfig?.metadata?.namespace || undefined,
    });
    return { imageRef: rec.id };
  };
}
