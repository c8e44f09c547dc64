/** ImageRecord → CRI Image, shared by ImageStatus and ListImages. */
import type { ImageService } from "../image/image_service.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { imageUser } from "../image/image_names.ts";
import type { Image } from "./gen/api.ts";
import { ViewMemo } from "./view_memo.ts";

const views = new ViewMemo<ImageRecord, boolean, Image>();

export function toCriImage(images: ImageService, rec: ImageRecord): Image {
  const pinned = images.isPinned(rec);
  return views.get(rec, pinned, () => criImage(rec, pinned));
}

function criImage(rec: ImageRecord, pinned: boolean): Image {
  const user = imageUser(rec.user);
  return {
    id: rec.id,
    repoTags: [...rec.repoTags],
    repoDigests: [...rec.repoDigests],
    size: rec.size,
    ...(user.uid !== undefined ? { uid: { value: user.uid } } : {}),
    username: user.username,
    spec: { image: rec.id },
    pinned,
  };
}
