/** ImageRecord → CRI Image, shared by ImageStatus and ListImages. */
import type { ImageService } from "../image/image_service.ts";
import type { ImageRecord } from "../image/image_store.ts";
import { imageUser } from "../image/image_names.ts";
import type { Image } from "./gen/api.ts";

/**
 * One frozen view per record (records are replaced, never changed in place) and pinned flag
 * (the pinned list can be reloaded), so ListImages reuses its encoded bytes.
 */
const views = new WeakMap<ImageRecord, Image>();

export function toCriImage(images: ImageService, rec: ImageRecord): Image {
  const pinned = images.isPinned(rec);
  const known = views.get(rec);
  if (known?.pinned === pinned) return known;
  const view = Object.freeze(criImage(rec, pinned));
  views.set(rec, view);
  return view;
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
