/**
 * Structured logging to stderr in CRI-O's two formats (text, json). The level can be changed at run
 * time because SIGHUP reloads it.
 */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "panic"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Fields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  fatal: 5,
  panic: 6,
};

export interface LogSink {
  write(line: string): void;
}

const encoder = new TextEncoder();
const stderrSink: LogSink = {
  write(line) {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  },
};

function quote(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return /^[\w./:@+-]*$/.test(s) && s !== "" ? s : JSON.stringify(s);
}

export class Logger {
  #level: LogLevel = "info";
  #format: LogFormat = "text";
  #sink: LogSink;
  readonly #fields: Fields;

  constructor(options: { sink?: LogSink; fields?: Fields } = {}) {
    this.#sink = options.sink ?? stderrSink;
    this.#fields = options.fields ?? {};
  }

  configure(options: { level?: LogLevel; format?: LogFormat; sink?: LogSink }): void {
    if (options.level) this.#level = options.level;
    if (options.format) this.#format = options.format;
    if (options.sink) this.#sink = options.sink;
  }

  get level(): LogLevel {
    return this.#level;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.#level];
  }

  log(level: LogLevel, msg: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const all = { ...this.#fields, ...fields };
    const time = new Date().toISOString();
    if (this.#format === "json") {
      this.#sink.write(JSON.stringify({ time, level, msg, ...all }));
      return;
    }
    const kv = Object.entries(all).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
    this.#sink.write(`time=${quote(time)} level=${level} msg=${quote(msg)}${kv ? " " + kv : ""}`);
  }

  trace(msg: string, fields?: Fields): void {
    this.log("trace", msg, fields);
  }
  debug(msg: string, fields?: Fields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.log("error", msg, fields);
  }
}

/** The daemon's logger; configured once from the effective config and again on SIGHUP. */
export const log = new Logger();
