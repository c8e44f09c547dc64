/**
 * Which seccomp filter a container gets. Unconfined (or no profile at all, as critest expects)
 * means none; RuntimeDefault means the daemon's profile (seccomp_profile, else the built-in one);
 * Localhost means a profile file on the node, read by the caller and converted here from the
 * Docker/containers JSON format (names/name, archMap, includes/excludes) to the OCI one.
 * Privileged containers get none, whatever they ask for.
 */
import { InvalidArgumentError } from "../../errors.ts";
import { type SecurityProfile, SecurityProfile_ProfileType } from "../../cri/gen/api.ts";
import { defaultSeccompProfile, SECCOMP_ARCHES } from "./seccomp_default.ts";
import type { OciSeccomp, OciSeccompArg, OciSeccompRule } from "./types.ts";

export type SeccompChoice =
  | { kind: "unconfined" }
  | { kind: "runtime-default" }
  | { kind: "localhost"; path: string };

/** Reads the CRI fields (the structured `seccomp` wins over the deprecated path string). */
export function seccompChoice(
  sc: { seccomp?: SecurityProfile; seccompProfilePath?: string; privileged?: boolean },
): SeccompChoice {
  if (sc.privileged) return { kind: "unconfined" };
  const p = sc.seccomp;
  if (p) {
    switch (p.profileType ?? SecurityProfile_ProfileType.RuntimeDefault) {
      case SecurityProfile_ProfileType.RuntimeDefault:
        return { kind: "runtime-default" };
      case SecurityProfile_ProfileType.Unconfined:
        return { kind: "unconfined" };
      case SecurityProfile_ProfileType.Localhost:
        return localhost(p.localhostRef ?? "");
    }
    throw new InvalidArgumentError(`seccomp profile type ${p.profileType} is unknown`);
  }
  const legacy = sc.seccompProfilePath ?? "";
  if (legacy === "" || legacy === "unconfined") return { kind: "unconfined" };
  if (legacy === "runtime/default" || legacy === "docker/default") {
    return { kind: "runtime-default" };
  }
  if (legacy.startsWith("localhost/")) return localhost(legacy.slice("localhost/".length));
  throw new InvalidArgumentError(
    `seccomp_profile_path ${JSON.stringify(legacy)} is not understood`,
  );
}

function localhost(path: string): SeccompChoice {
  if (!path.startsWith("/")) {
    throw new InvalidArgumentError(
      `seccomp localhost profile ${JSON.stringify(path)} must be an absolute path`,
    );
  }
  return { kind: "localhost", path };
}

/** The value of the io.kubernetes.cri-o.SeccompProfilePath annotation for a choice. */
export function seccompRef(choice: SeccompChoice): string {
  if (choice.kind === "localhost") return choice.path;
  return choice.kind === "runtime-default" ? "RuntimeDefault" : "Unconfined";
}

interface ProfileRule {
  name?: string;
  names?: string[];
  action?: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  includes?: { caps?: string[]; arches?: string[] };
  excludes?: { caps?: string[]; arches?: string[] };
}

interface ProfileJson {
  defaultAction?: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  flags?: string[];
  syscalls?: ProfileRule[] | null;
}

/**
 * Converts a profile file's text. `capabilities` and `arch` decide the includes/excludes
 * conditions, which the OCI format does not have.
 */
export function parseSeccompProfile(
  text: string,
  options: { capabilities: readonly string[]; arch: string; source: string },
): OciSeccomp {
  let json: ProfileJson;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`seccomp profile ${options.source} is not JSON: ${err}`);
  }
  if (typeof json !== "object" || json === null || typeof json.defaultAction !== "string") {
    throw new InvalidArgumentError(`seccomp profile ${options.source} has no defaultAction`);
  }
  const caps = new Set(options.capabilities);
  const arches = SECCOMP_ARCHES[options.arch] ?? [];
  const applies = (r: ProfileRule) =>
    (r.includes?.caps ?? []).every((c) => caps.has(c)) &&
    (r.includes?.arches?.length
      ? r.includes.arches.some((a) => arches.includes(archName(a)))
      : true) &&
    !(r.excludes?.caps ?? []).some((c) => caps.has(c)) &&
    !(r.excludes?.arches ?? []).some((a) => arches.includes(archName(a)));
  const syscalls: OciSeccompRule[] = [];
  for (const r of json.syscalls ?? []) {
    const names = r.names ?? (r.name ? [r.name] : []);
    if (!names.length || !applies(r)) continue;
    if (typeof r.action !== "string") {
      throw new InvalidArgumentError(`seccomp profile ${options.source}: a rule has no action`);
    }
    syscalls.push({
      names,
      action: r.action,
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args?.length ? { args: r.args } : {}),
    });
  }
  const architectures = json.architectures ??
    json.archMap?.filter((m) => arches.includes(m.architecture))
      .flatMap((m) => [m.architecture, ...(m.subArchitectures ?? [])]);
  return {
    defaultAction: json.defaultAction,
    ...(json.defaultErrnoRet !== undefined ? { defaultErrnoRet: json.defaultErrnoRet } : {}),
    ...(architectures?.length ? { architectures } : {}),
    ...(json.flags?.length ? { flags: json.flags } : {}),
    syscalls,
  };
}

/** includes.arches uses short names ("amd64", "x86_64"); map them to SCMP_ARCH_*. */
function archName(a: string): string {
  const short: Record<string, string> = {
    amd64: "SCMP_ARCH_X86_64",
    x86_64: "SCMP_ARCH_X86_64",
    arm64: "SCMP_ARCH_AARCH64",
    aarch64: "SCMP_ARCH_AARCH64",
  };
  return short[a] ?? a;
}

/** The OCI seccomp section for a choice; `profiles` holds what the caller read from disk. */
export function resolveSeccomp(
  choice: SeccompChoice,
  options: {
    capabilities: readonly string[];
    arch: string;
    /** The daemon's seccomp_profile file contents, when set. */
    runtimeDefaultText?: string;
    /** The Localhost profile file contents. */
    localhostText?: string;
  },
): OciSeccomp | undefined {
  switch (choice.kind) {
    case "unconfined":
      return undefined;
    case "runtime-default":
      if (options.runtimeDefaultText === undefined) return defaultSeccompProfile(options);
      return parseSeccompProfile(options.runtimeDefaultText, {
        ...options,
        source: "seccomp_profile",
      });
    case "localhost":
      if (options.localhostText === undefined) {
        throw new InvalidArgumentError(`seccomp localhost profile ${choice.path} was not read`);
      }
      return parseSeccompProfile(options.localhostText, { ...options, source: choice.path });
  }
}
