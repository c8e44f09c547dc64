/** ImageRecord → CRI Image, shared by ImageStatus and ListImages. */
import type { ImageService } from "../image/image_service.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { imageUser } from "../image/image_names.ts";
import type { Image } from "./gen/api.ts";

export function toCriImage(images: ImageService, rec: ImageRecord): Image {
  const user = imageUser(rec.user);
  return {
    id: rec.id,
    repoTags: [...rec.repoTags],
    repoDigests: [...rec.repoDigests],
    size: rec.size,
    ...(user.uid !== undefined ? { uid: { value: user.uid } } : {}),
    username: user.username,
    spec: { image: rec.id },
    pinned: images.isPinned(rec),
  };
}
