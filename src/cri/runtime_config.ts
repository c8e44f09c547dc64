import { CgroupDriver, type RuntimeServiceHandlers } from "./gen/api.ts";
import type { RuntimeInfo } from "../runtime/runtime_info.ts";

export function runtimeConfig(info: RuntimeInfo): RuntimeServiceHandlers["RuntimeConfig"] {
  return () =>
    Promise.resolve({
      linux: {
        cgroupDriver: info.cgroupDriver() === "systemd"
          ? CgroupDriver.SYSTEMD
          : CgroupDriver.CGROUPFS,
      },
    });
}
