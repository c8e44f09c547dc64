/**
 * What the error stream carries. v4 and v5 send a metav1.Status as JSON, exactly as the kubelet
 * marshals it (empty metadata object, no kind/apiVersion): Success, NonZeroExitCode with the exit
 * code as an ExitCode cause (client-go turns that into the exit code crictl and kubectl return),
 * or InternalError. Older protocols send only the message of a failure, as plain text.
 */

export interface Status {
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

export function successStatus(): Status {
  return { metadata: {}, status: "Success" };
}

export function exitCodeStatus(code: number): Status {
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export function internalErrorStatus(message: string): Status {
  return {
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${message}`,
    reason: "InternalError",
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The bytes the error stream gets: JSON for v4/v5, the bare message before, nothing on success. */
export function statusBytes(s: Status, json: boolean): Uint8Array {
  if (json) return new TextEncoder().encode(JSON.stringify(s));
  return new TextEncoder().encode(s.status === "Success" ? "" : s.message ?? "");
}
