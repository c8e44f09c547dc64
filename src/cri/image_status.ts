import { InvalidArgumentError } from "../errors.ts";
import type { ImageService } from "../image/image_service.ts";
import type { ImageServiceHandlers } from "./gen/api.ts";
import { toCriImage } from "./image_convert.ts";

/** An unknown image is not an error: the response has no image, as the CRI asks. */
export function imageStatus(images: ImageService): ImageServiceHandlers["ImageStatus"] {
  return async (req) => {
    const name = req.image?.image ?? "";
    if (name === "") throw new InvalidArgumentError("image.image is required");
    const rec = images.find(name);
    if (!rec) return {};
    const image = toCriImage(images, rec);
    if (!req.verbose) return { image };
    return { image, info: { info: JSON.stringify(await images.verboseInfo(rec)) } };
  };
}
