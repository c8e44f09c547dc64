/**
 * What the image service reports about the filesystems it uses: the image store (layers) and the
 * containers' writable layers, both under the storage root.
 */
import { type FsUsage, UsageCache } from "../storage/fs_usage.ts";

export interface FilesystemUsage extends FsUsage {
  mountpoint: string;
}

export class ImageFilesystems {
  readonly #images: UsageCache;
  readonly #containers: UsageCache;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.#images = new UsageCache(`${root}/layers`);
    this.#containers = new UsageCache(`${root}/containers`);
  }

  async images(): Promise<FilesystemUsage> {
    return { ...(await this.#images.get()), mountpoint: `${this.#root}/layers` };
  }

  async containers(): Promise<FilesystemUsage> {
    return { ...(await this.#containers.get()), mountpoint: `${this.#root}/containers` };
  }
}
