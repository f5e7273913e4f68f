// One log format for the api and the worker: pino, JSON lines in production (RELAY_LOG_FORMAT=json, or whenever
// stdout is not a terminal) and readable lines when a terminal is attached. Nothing personal is logged on purpose
// (no bodies, no values: ids, counts, codes and reasons); what could carry a secret is redacted by path as well.
// The Temporal SDK's own log (worker state, activity failures) goes through the same logger (temporalLogger).
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty' | 'auto';

/** Paths whose values are never written, wherever they turn up. */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-hubspot-signature-v3"]',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** Names the process in every line (api, worker). */
  name?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'auto';
  const readable = format === 'pretty' || (format === 'auto' && !opts.destination && process.stdout.isTTY === true);
  const options = {
    level: opts.level ?? 'info',
    ...(opts.name ? { name: opts.name } : {}),
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (readable) {
    return pino(
      options,
      pretty({
        colorize: process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
        sync: true,
        ...(opts.destination ? { destination: opts.destination as unknown as NodeJS.WritableStream } : {}),
      }),
    );
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The Temporal SDK's Logger over pino: Runtime.install({ logger: temporalLogger(log) }). */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => log[LEVELS[level]](meta ?? {}, message);
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
