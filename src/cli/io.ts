import { appendFileSync } from 'node:fs';
import { silent, stderrDebug, type DebugLog } from '../debug.js';

export function debugFor(flags: { debug?: boolean }): DebugLog {
  return flags.debug === true ? stderrDebug() : silent;
}

/** Resolves once the bytes are handed to the OS, so the process can exit without losing them. */
export function writeStdout(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * A message for the person at the keyboard ("touch your key"): on the terminal itself, since
 * SDKs running credential_process capture stderr; on stderr when there is no terminal.
 */
export function noticeOnTerminal(message: string): void {
  try {
    appendFileSync('/dev/tty', `${message}\n`);
  } catch {
    process.stderr.write(`${message}\n`);
  }
}
