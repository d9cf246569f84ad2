import pino from "pino";

export type Logger = pino.Logger;

export type LoggerOptions = {
  /** One readable line per record instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
};

/** JSON lines for machines (pipes, files, log collectors); readable lines at a terminal. */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const settings = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  return pretty ? pino(settings, prettyStream(process.stdout)) : pino(settings);
}

const LEVELS: Record<number, { label: string; color: number }> = {
  10: { label: "TRACE", color: 90 },
  20: { label: "DEBUG", color: 36 },
  30: { label: "INFO ", color: 32 },
  40: { label: "WARN ", color: 33 },
  50: { label: "ERROR", color: 31 },
  60: { label: "FATAL", color: 35 },
};

type LogRecord = { level?: number; time?: string; msg?: string; err?: { stack?: string } } & {
  [key: string]: unknown;
};

const paint = (color: number, text: string, colors: boolean) =>
  colors ? `\u001b[${color}m${text}\u001b[39m` : text;

const fieldValue = (value: unknown) =>
  typeof value === "string" && !/\s/.test(value) && value !== "" ? value : JSON.stringify(value);

/** `12:00:01.234 INFO  panel API listening on http://localhost:3001 database=pglite` */
export function formatRecord(line: string, colors: boolean): string {
  let record: LogRecord;
  try {
    record = JSON.parse(line) as LogRecord;
  } catch {
    return line;
  }
  const { level = 30, time, msg = "", err, ...fields } = record;
  const { label, color } = LEVELS[level] ?? { label: String(level), color: 39 };
  const clock = time ? new Date(time).toTimeString().slice(0, 8) + time.slice(19, 23) : "";
  const rest = Object.entries(fields).map(
    ([key, value]) => `${paint(90, `${key}=`, colors)}${fieldValue(value)}`,
  );
  const head = [paint(90, clock, colors), paint(color, label, colors), msg, ...rest]
    .filter(Boolean)
    .join(" ");
  return err?.stack ? `${head}\n${indent(err.stack)}\n` : `${head}\n`;
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

/** A pino destination that rewrites each JSON line before it reaches the terminal. */
function prettyStream(out: NodeJS.WriteStream) {
  const colors = out.hasColors?.() ?? false;
  return {
    write(chunk: string) {
      for (const line of chunk.split("\n")) if (line) out.write(formatRecord(line, colors));
    },
  };
}
