import { appendFileSync, fstatSync } from 'node:fs';
import type { OutputConfiguration } from 'commander';
import { SignerError } from '../errors.js';
import { stdStream, writeStd, writeStderrQuietly } from '../std-output.js';
import { silent, stderrDebug, type DebugLog } from '../debug.js';

export function debugFor(flags: { debug?: boolean }): DebugLog {
  return flags.debug === true ? stderrDebug() : silent;
}

/**
 * Resolves once the bytes are handed to the OS, or queued on the stream that carries stdout
 * (a long-running command's; flushed before the process exits): see std-output.ts.
 */
export async function writeStdout(data: string | Uint8Array): Promise<void> {
  writeStdoutNow(data);
}

function writeStdoutNow(data: string | Uint8Array): void {
  try {
    writeStd('stdout', data);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    throw new SignerError('OUTPUT_CLOSED', 'stdout was closed before the output was written: the program reading it exited first', { cause: error });
  }
}

/**
 * commander's output through std-output.ts like everything else. Its defaults would make
 * Node's stdout and stderr streams on every run that prints help or a usage error, and ask
 * them for a width and colours; here only a character device (a terminal, or /dev/null) can
 * be a terminal, so a pipe is never asked. The help has no colours of its own.
 */
export const COMMANDER_OUTPUT: OutputConfiguration = {
  writeOut: (text) => writeStdoutNow(text),
  writeErr: (text) => writeStderrQuietly(text),
  outputError: (text, write) => write(text),
  getOutHelpWidth: () => terminalColumns('stdout'),
  getErrHelpWidth: () => terminalColumns('stderr'),
  getOutHasColors: () => false,
  getErrHasColors: () => false,
};

/** What commander would take without a terminal. */
const DEFAULT_HELP_WIDTH = 80;

function terminalColumns(name: 'stdout' | 'stderr'): number {
  try {
    if (!fstatSync(name === 'stdout' ? 1 : 2).isCharacterDevice()) return DEFAULT_HELP_WIDTH;
  } catch {
    return DEFAULT_HELP_WIDTH;
  }
  const stream = stdStream(name);
  return stream.isTTY ? stream.columns : DEFAULT_HELP_WIDTH;
}

/**
 * A message for the person at the keyboard ("touch your key"): on the terminal itself, since
 * SDKs running credential_process capture stderr; on stderr when there is no terminal.
 */
export function noticeOnTerminal(message: string): void {
  try {
    appendFileSync('/dev/tty', `${message}\n`);
  } catch {
    writeStderrQuietly(`${message}\n`);
  }
}
