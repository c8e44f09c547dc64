import type { FilesystemUsage, ImageFilesystems } from "../image/image_fs.ts";
import type { FilesystemUsage as CriUsage, ImageServiceHandlers } from "./gen/api.ts";

function toCri(u: FilesystemUsage): CriUsage {
  return {
    timestamp: u.timestampNs,
    fsId: { mountpoint: u.mountpoint },
    usedBytes: { value: u.usedBytes },
    inodesUsed: { value: u.inodesUsed },
  };
}

export function imageFsInfo(fs: ImageFilesystems): ImageServiceHandlers["ImageFsInfo"] {
  return async () => ({
    imageFilesystems: [toCri(await fs.images())],
    containerFilesystems: [toCri(await fs.containers())],
  });
}
