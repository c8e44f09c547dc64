import type { ImageService } from "../image/image_service.ts";
import type { ImageServiceHandlers } from "./gen/api.ts";
import { toCriImage } from "./image_convert.ts";

/** A filter names one image (any form ImageStatus accepts); no filter lists them all. */
export function listImages(images: ImageService): ImageServiceHandlers["ListImages"] {
  return (req) => {
    const name = req.filter?.image?.image ?? "";
    const recs = name === "" ? images.list() : [images.find(name)].filter((r) => r !== undefined);
    return Promise.resolve({ images: recs.map((r) => toCriImage(images, r)) });
  };
}
