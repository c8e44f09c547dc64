/**
 * The files containers of a pod mount: hostname, hosts, resolv.conf (from DNSConfig, else the
 * node's), and a /dev/shm tmpfs per pod. They live in the pod's run dir, named by its id only.
 */
import type { DNSConfig } from "../../cri/gen/api.ts";
import { atomicWrite } from "../../util/atomic_write.ts";
import { hostMounter, type Mounter, MS_NODEV, MS_NOEXEC, MS_NOSUID } from "../../util/libc_io.ts";

export function resolvConf(dns: DNSConfig): string {
  const lines: string[] = [];
  if (dns.searches?.length) lines.push(`search ${dns.searches.join(" ")}`);
  for (const s of dns.servers ?? []) lines.push(`nameserver ${s}`);
  if (dns.options?.length) lines.push(`options ${dns.options.join(" ")}`);
  return lines.join("\n") + "\n";
}

export function hostsFile(hostname: string, ips: readonly string[]): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    ...ips.map((ip) => `${ip}\t${hostname}`),
  ];
  return lines.join("\n") + "\n";
}

export interface PodFilesOptions {
  /** mount(2) and umount(2); a seam for tests. */
  mounter?: Mounter;
  /** The node's files, copied for pods without DNSConfig or with host network. */
  hostResolvConf?: string;
  hostHosts?: string;
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return fallback;
  }
}

export class PodFiles {
  readonly #o: PodFilesOptions;

  constructor(o: PodFilesOptions) {
    this.#o = o;
  }

  async write(
    runDir: string,
    pod: { hostname: string; dns?: DNSConfig; hostNetwork: boolean; ips: readonly string[] },
  ): Promise<void> {
    const dns = pod.dns ?? {};
    const hasDns = !!(dns.servers?.length || dns.searches?.length || dns.options?.length);
    const resolv = hasDns
      ? resolvConf(dns)
      : await readOr(this.#o.hostResolvConf ?? "/etc/resolv.conf", "");
    const hosts = pod.hostNetwork
      ? await readOr(this.#o.hostHosts ?? "/etc/hosts", hostsFile(pod.hostname, []))
      : hostsFile(pod.hostname, pod.ips);
    await atomicWrite(`${runDir}/hostname`, `${pod.hostname}\n`, { mode: 0o644 });
    await atomicWrite(`${runDir}/hosts`, hosts, { mode: 0o644 });
    await atomicWrite(`${runDir}/resolv.conf`, resolv, { mode: 0o644 });
  }

  /** Mounts a tmpfs of the given size (e.g. 64m) at path, created here. */
  async mountShm(path: string, size: string): Promise<void> {
    await Deno.mkdir(path, { mode: 0o1777 });
    (this.#o.mounter ?? hostMounter).mountFs(path, {
      type: "tmpfs",
      source: "shm",
      flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
      data: `mode=1777,size=${size}`,
    });
  }

  /** Unmounts the shm tmpfs if mounted and removes the dir; idempotent. */
  async unmountShm(path: string, mounted: boolean): Promise<void> {
    if (mounted) (this.#o.mounter ?? hostMounter).unmount(path, { detach: true });
    await Deno.remove(path).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}
