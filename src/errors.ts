/**
 * Typed errors thrown by inner code. Only the edge (src/cri/edge.ts) turns them into gRPC status
 * codes, so the rest of the daemon never imports gRPC.
 */
export type ErrorKind =
  | "NotFound"
  | "AlreadyExists"
  | "InvalidArgument"
  | "FailedPrecondition"
  | "DeadlineExceeded"
  | "ResourceExhausted"
  | "Unavailable"
  | "Unauthenticated"
  | "Unimplemented"
  | "Unknown"
  | "Internal";

export class CriError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.name = `${kind}Error`;
  }
}

/** One subclass per kind, so callers can `throw new NotFoundError(...)` and tests `instanceof`. */
function kindClass(kind: ErrorKind) {
  return class extends CriError {
    constructor(message: string, options?: ErrorOptions) {
      super(kind, message, options);
    }
  };
}

export const NotFoundError = kindClass("NotFound");
export type NotFoundError = InstanceType<typeof NotFoundError>;
export const AlreadyExistsError = kindClass("AlreadyExists");
export type AlreadyExistsError = InstanceType<typeof AlreadyExistsError>;
/** A field of the request is wrong; the message names the field. */
export const InvalidArgumentError = kindClass("InvalidArgument");
export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>;
export const FailedPreconditionError = kindClass("FailedPrecondition");
export type FailedPreconditionError = InstanceType<typeof FailedPreconditionError>;
export const DeadlineExceededError = kindClass("DeadlineExceeded");
export type DeadlineExceededError = InstanceType<typeof DeadlineExceededError>;
export const ResourceExhaustedError = kindClass("ResourceExhausted");
export type ResourceExhaustedError = InstanceType<typeof ResourceExhaustedError>;
export const UnavailableError = kindClass("Unavailable");
export type UnavailableError = InstanceType<typeof UnavailableError>;
/** The registry wants credentials that were not given or were refused; names the registry. */
export const UnauthenticatedError = kindClass("Unauthenticated");
export type UnauthenticatedError = InstanceType<typeof UnauthenticatedError>;
/**
 * The signature policy refused the image. The kubelet recognizes it by the message prefix
 * (k8s.io/cri-api ErrSignatureValidationFailed) on a status with code Unknown, as CRI-O sends it.
 */
export class SignatureValidationError extends CriError {
  constructor(message: string, options?: ErrorOptions) {
    super("Unknown", `SignatureValidationFailed: ${message}`, options);
  }
}
export const UnimplementedError = kindClass("Unimplemented");
export type UnimplementedError = InstanceType<typeof UnimplementedError>;
export const InternalError = kindClass("Internal");
export type InternalError = InstanceType<typeof InternalError>;

/** A configuration value that cannot be used; names where it came from and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

export function errorKind(err: unknown): ErrorKind {
  if (err instanceof CriError) return err.kind;
  if (err instanceof Deno.errors.NotFound) return "NotFound";
  if (err instanceof Deno.errors.AlreadyExists) return "AlreadyExists";
  if (err instanceof Deno.errors.TimedOut) return "DeadlineExceeded";
  return "Internal";
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A SPDY peer broke the protocol (malformed frame, bound exceeded, bad stream id). `status` is
 * the RST_STREAM status when only one stream is affected; without `streamId` the whole session
 * is lost (GOAWAY PROTOCOL_ERROR). Never leaves the streaming server.
 */
export class SpdyProtocolError extends Error {
  readonly streamId: number;
  readonly status: number;
  constructor(message: string, options?: { streamId?: number; status?: number }) {
    super(message);
    this.name = "SpdyProtocolError";
    this.streamId = options?.streamId ?? 0;
    this.status = options?.status ?? 1;
  }
}
