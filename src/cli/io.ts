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
