/**
 * What critest v1.37.0 pulls on linux/amd64, and what each stand-in must hold
 * for the tests that use it (sources: pkg/validate/consts*.go,
 * pkg/framework/util.go, images/ and the tests named below).
 */

import { nnpBinary, pauseBinary } from "./elf.ts";
import type { ImageConfigOptions, ManifestFormat } from "./oci.ts";
import { BASE_ACCOUNTS, BASE_GROUPS, groupFile, passwdFile, shellScript } from "./rootfs.ts";
import type { TarEntry } from "./tar_writer.ts";

export interface Recipe {
  /** Upstream references this image answers for; each maps to host-less repo:tag locally. */
  refs: string[];
  /** `scratch` starts empty; `busybox` is the shared base layer from rootfs.ts. */
  base: "busybox" | "scratch";
  /** Entries of a layer on top of the base. */
  extra?: TarEntry[];
  config: ImageConfigOptions;
  format: ManifestFormat;
  multiArch: boolean;
}

export interface Unavailable {
  upstreamRef: string;
  reason: string;
}

/**
 * The image references of v1.34.0 and v1.36.0 are a subset of v1.37.0's (compared in
 * pkg/validate/consts.go and pkg/framework), so the one catalogue serves all three pins.
 */
export const SUPPORTED_CRITEST_VERSIONS = ["v1.34.0", "v1.36.0", "v1.37.0"] as const;

const E2E = "registry.k8s.io/e2e-test-images/";
const CRI = "gcr.io/k8s-staging-cri-tools/";
const SHELL = { cmd: ["sh"] };

const touch = (name: string): TarEntry[] => [{ type: "file", path: name, data: "" }];

/** cri-tools' images/image-test: busybox plus one empty file named after the build arg. */
function testImage(refs: string[], file: string): Recipe {
  return {
    refs,
    base: "busybox",
    extra: touch(file),
    config: SHELL,
    format: "docker",
    multiArch: true,
  };
}

/** cri-tools' images/image-user: busybox with only USER changed. */
function userImage(name: string, user: string): Recipe {
  return {
    refs: [CRI + name],
    base: "busybox",
    config: { ...SHELL, user },
    format: "oci",
    multiArch: true,
  };
}

const WELCOME = `<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>critest web server stand-in: busybox httpd serving this page.</p>
</body>
</html>
`;

/**
 * busybox httpd standing in for nginx. critest's port-mapping and port-forward
 * checks only need HTTP 200 on the port; its HostPID/PodPID/ContainerPID
 * checks read /var/run/nginx.pid, run `pidof nginx`, and look for "master
 * process" in /proc/1/cmdline. So PID 1 is a shell re-executed through an
 * `nginx` link (which sets the process name) with nginx's master title as
 * argv[0] (busybox still dispatches on the leading "busybox"), and it traps
 * TERM as nginx does, since PID 1 without a handler would ignore it.
 */
function webServer(ref: string, opts: { port: number; multiArch: boolean }): Recipe {
  const { port, multiArch } = opts;
  const start = shellScript(
    "usr/local/bin/nginx-start",
    `
if [ "$1" != "--master" ]; then
  exec -a "busybox nginx: master process nginx -g daemon off;" /usr/sbin/nginx sh "$0" --master
fi
mkdir -p /var/run
echo $$ > /var/run/nginx.pid
httpd -f -p ${port} -h /usr/share/nginx/html &
child=$!
trap 'kill "$child" 2>/dev/null; exit 0' TERM INT QUIT
wait "$child"`,
  );
  return {
    refs: [ref],
    base: "busybox",
    extra: [
      { type: "symlink", path: "usr/sbin/nginx", target: "/bin/busybox" },
      { type: "dir", path: "usr/share/nginx" },
      { type: "dir", path: "usr/share/nginx/html" },
      { type: "file", path: "usr/share/nginx/html/index.html", data: WELCOME },
      start,
    ],
    config: {
      cmd: ["/usr/local/bin/nginx-start"],
      exposedPorts: [`${port}/tcp`],
      stopSignal: "SIGTERM",
    },
    format: "docker",
    multiArch,
  };
}

/** multi_container_linux.go: HTTP 200 on port 80, "httpd" in the log, `echo` for exec. */
function httpd(): Recipe {
  const start = shellScript(
    "usr/local/bin/httpd-foreground",
    `
echo "httpd: serving /usr/local/apache2/htdocs on port 80"
httpd -f -v -p 80 -h /usr/local/apache2/htdocs &
child=$!
trap 'kill "$child" 2>/dev/null; exit 0' TERM INT QUIT WINCH
wait "$child"`,
  );
  return {
    refs: [E2E + "httpd:2.4.39-4"],
    base: "busybox",
    extra: [
      { type: "dir", path: "usr/local/apache2" },
      { type: "dir", path: "usr/local/apache2/htdocs" },
      {
        type: "file",
        path: "usr/local/apache2/htdocs/index.html",
        data: "<html><body><h1>It works!</h1></body></html>\n",
      },
      start,
    ],
    config: {
      cmd: ["httpd-foreground"],
      workingDir: "/usr/local/apache2",
      exposedPorts: ["80/tcp"],
    },
    format: "docker",
    multiArch: true,
  };
}

/** security_context_linux.go NoNewPrivs: a setuid-root program printing "Effective uid: N". */
function nonewprivs(): Recipe {
  return {
    refs: [E2E + "nonewprivs:1.3"],
    base: "busybox",
    extra: [{ type: "file", path: "usr/local/bin/nnp", mode: 0o4755, data: nnpBinary() }],
    config: { entrypoint: ["/usr/local/bin/nnp"] },
    format: "oci",
    multiArch: false,
  };
}

/**
 * images/image-predefined-group: default-user (1000) belongs to
 * group-defined-in-image (50000) in /etc/group, and the image runs as 1000.
 */
function predefinedGroup(): Recipe {
  const accounts = [...BASE_ACCOUNTS, {
    name: "default-user",
    uid: 1000,
    gid: 1000,
    home: "/home/default-user",
    shell: "/bin/sh",
    gecos: "Linux User,,,",
  }];
  const groups = [
    ...BASE_GROUPS,
    { name: "default-user", gid: 1000 },
    { name: "group-defined-in-image", gid: 50000, members: ["default-user"] },
  ];
  return {
    refs: [CRI + "test-image-predefined-group"],
    base: "busybox",
    extra: [
      { type: "file", path: "etc/passwd", data: passwdFile(accounts) },
      { type: "file", path: "etc/group", data: groupFile(groups) },
      { type: "dir", path: "home/default-user", uid: 1000, gid: 1000 },
    ],
    config: { ...SHELL, user: "1000" },
    format: "oci",
    multiArch: true,
  };
}

/** The sandbox image: /pause only, as upstream, run as 65535. */
function pause(refs: string[], version: string): Recipe {
  return {
    refs,
    base: "scratch",
    extra: [{ type: "file", path: "pause", mode: 0o755, data: pauseBinary() }],
    // Versions must differ in ID: critest removes pause:3.9 while 3.10.1 is the
    // runtime's own sandbox image, and expects exactly two tags on 3.9.
    config: {
      entrypoint: ["/pause"],
      user: "65535:65535",
      labels: { "org.opencontainers.image.version": version },
    },
    format: "oci",
    multiArch: true,
  };
}

function benchmarkImages(): Recipe[] {
  const prefix = "public.ecr.aws/docker/library/busybox:";
  return ["1.35.0-glibc", "1-uclibc", "1", "1-glibc", "1-musl"].map((tag) => ({
    refs: [prefix + tag],
    base: "busybox",
    config: { ...SHELL, labels: { "org.opencontainers.image.version": tag } },
    format: "docker",
    multiArch: true,
  }));
}

export function critestCatalog(opts: { benchmark?: boolean } = {}): {
  recipes: Recipe[];
  unavailable: Unavailable[];
} {
  const recipes: Recipe[] = [
    {
      refs: [E2E + "busybox:1.29-2"],
      base: "busybox",
      config: SHELL,
      format: "docker",
      multiArch: true,
    },
    webServer(E2E + "nginx:1.14-2", { port: 80, multiArch: true }),
    // consts_linux.go: the per-arch image, listening on 12003 in the host netns.
    webServer(CRI + "hostnet-nginx-amd64", { port: 12003, multiArch: false }),
    httpd(),
    nonewprivs(),
    testImage([CRI + "test-image-latest"], "test-image-latest"),
    testImage([CRI + "test-image-tag:test"], "test"),
    testImage([CRI + "test-image-tag:all"], "all"),
    ...[1, 2, 3].map((n) => testImage([`${CRI}test-image-${n}:latest`], `test-image-${n}`)),
    testImage([1, 2, 3].map((n) => `${CRI}test-image-tags:${n}`), "same-image"),
    userImage("test-image-user-uid", "1002"),
    userImage("test-image-user-username", "www-data"),
    userImage("test-image-user-uid-group", "1003:1004"),
    userImage("test-image-user-username-group", "www-data:1004"),
    predefinedGroup(),
    pause(["registry.k8s.io/pause:3.10.1"], "3.10.1"),
    pause(["registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"], "3.9"),
    ...(opts.benchmark ? benchmarkImages() : []),
  ];
  const unavailable = [{
    upstreamRef: CRI +
      "test-image-digest@sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf",
    reason: "pinned by digest: a locally built image cannot have that digest",
  }];
  return { recipes, unavailable };
}
