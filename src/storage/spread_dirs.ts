/**
 * Where ext4 puts a new layer's inodes. Without a journal, ext4 skips every inode of a block group
 * freed in the last 60 s (360 s while that inode table block is dirty) when it allocates a new one
 * (fs/ext4/ialloc.c, recently_deleted()), and it checks them one by one. A subdirectory is placed
 * in the flex group where its parent last allocated, so a layer extracted right after another was
 * removed (an image pulled again after garbage collection) pays for every inode freed there. On
 * this project's node 18,000 small files took 15-17 s to create after such a removal, against
 * 0.6-0.8 s with the flag set here.
 *
 * FS_TOPDIR_FL on the directory where layers are made has ext4's Orlov allocator place each new
 * subdirectory as it places the children of `/`: in a group with more free inodes and blocks than
 * the average and few directories, starting from a hash of its name. Each layer then keeps its
 * files together in a group of its own. With a journal the skip does not happen and only the
 * placement changes; a file system without the flag refuses it and nothing changes.
 */
import {
  cstr,
  errnoName,
  lazyLibrary,
  libcPath,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_RDONLY_CLOEXEC,
} from "../util/libc_io.ts";

const symbols = lazyLibrary(
  libcPath,
  {
    open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
    ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  } as const,
);

// _IOR('f', 1, long) and _IOW('f', 2, long); the kernel reads and writes an int through them.
const FS_IOC_GETFLAGS = 0x80086601n;
const FS_IOC_SETFLAGS = 0x40086602n;
export const FS_TOPDIR_FL = 0x00020000;

/** Why a call was refused: the call and errno, e.g. "FS_IOC_GETFLAGS: ENOTTY". */
export type Refused = { ok: false; reason: string };
export type SpreadResult = { ok: true } | Refused;

function withDir<T>(dir: string, fn: (fd: number) => T): T | Refused {
  const fd = symbols().open(cstr(dir), O_RDONLY_CLOEXEC | O_DIRECTORY | O_NOFOLLOW, 0);
  if (fd < 0) return { ok: false, reason: `open: ${errnoName()}` };
  try {
    return fn(fd);
  } finally {
    symbols().close(fd);
  }
}

/** Reads fd's inode flags into flags[0]; undefined when read. */
function getFlags(fd: number, flags: Int32Array<ArrayBuffer>): Refused | undefined {
  if (symbols().ioctl(fd, FS_IOC_GETFLAGS, new Uint8Array(flags.buffer)) >= 0) return undefined;
  return { ok: false, reason: `FS_IOC_GETFLAGS: ${errnoName()}` };
}

/** The inode flags of dir (FS_IOC_GETFLAGS), or why they cannot be read. */
export function inodeFlags(dir: string): number | Refused {
  return withDir(dir, (fd) => {
    // Room for the long the ioctls are declared with; the kernel reads and writes an int.
    const flags = new Int32Array(2);
    return getFlags(fd, flags) ?? flags[0];
  });
}

/**
 * Sets FS_TOPDIR_FL on dir (never through a symlink). A refusal (ENOTTY or EOPNOTSUPP on a file
 * system without inode flags) is returned, not thrown: placement is an optimisation.
 */
export function spreadSubdirs(dir: string): SpreadResult {
  return withDir(dir, (fd): SpreadResult => {
    const flags = new Int32Array(2);
    const refused = getFlags(fd, flags);
    if (refused) return refused;
    if (flags[0] & FS_TOPDIR_FL) return { ok: true };
    flags[0] |= FS_TOPDIR_FL;
    if (symbols().ioctl(fd, FS_IOC_SETFLAGS, new Uint8Array(flags.buffer)) < 0) {
      return { ok: false, reason: `FS_IOC_SETFLAGS: ${errnoName()}` };
    }
    return { ok: true };
  });
}
