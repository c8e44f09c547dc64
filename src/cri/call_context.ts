/** What a handler may know about the call it serves, besides the request. */
export interface CallContext {
  /** Short id that ties the log lines of one call together. */
  readonly requestId: string;
  readonly method: string;
  /** Aborted when the client cancels or the daemon shuts down. */
  readonly signal: AbortSignal;
}
