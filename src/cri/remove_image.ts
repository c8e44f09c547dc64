import { InvalidArgumentError } from "../errors.ts";
import type { ImageService } from "../image/image_service.ts";
import type { ImageServiceHandlers } from "./gen/api.ts";

/** Idempotent: removing an image that is not there succeeds. */
export function removeImage(images: ImageService): ImageServiceHandlers["RemoveImage"] {
  return async (req) => {
    const name = req.image?.image ?? "";
    if (name === "") throw new InvalidArgumentError("image.image is required");
    await images.remove(name);
    return {};
  };
}
