/** JSON logs (pino) with the domain on every line, so a mixed log stream can be filtered per system. */
import pino, { type DestinationStream, type Logger } from 'pino';

/** Creates the process logger of one domain or service. */
export function createLogger(domain: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { domain, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * A logger with no fixed domain, for callers that name the domain on each line (a worker's
 * Temporal SDK logs, whose domain follows the task queue of the workflow or activity).
 */
export function createUnboundLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
