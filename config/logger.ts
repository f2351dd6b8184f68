/** JSON logs (pino) with the domain on every line, so a mixed log stream can be filtered per system. */
import pino, { type Logger } from 'pino';

/** Creates the process logger of one domain or service. */
export function createLogger(domain: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { domain, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
