#!/usr/bin/env node
import { CommanderError } from './commander.js';
import { SignerError, describeCause } from '../errors.js';
import { toTerminalText } from '../terminal-text.js';
import { buildProgram } from './program.js';
import { invokedName } from './help.js';
import { flushStdStreams, writeStderrQuietly } from '../std-output.js';

/**
 * Every failure ends here as one line on stderr and a non-zero exit; no stack trace reaches a
 * user. --debug adds the error code and the cause chain (which never holds secrets). Messages
 * may quote what a server or a file said, so each line is made terminal-safe last thing.
 */
async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv, invokedName(argv[1]));
  try {
    await program.parseAsync(argv as string[]);
    // A command that reports its own verdict (doctor: 1 when a check fails) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return report(error, argv.includes('--debug'));
  }
}

function report(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // commander printed its own message already: help and version exit 0, its complaints
    // (unknown flag or command, missing value, bad choice) are usage errors like ours.
    return error.exitCode === 0 ? 0 : 2;
  }
  // The reader of stdout is gone (`... | head -1`): say nothing, as a tool killed by SIGPIPE would,
  // and exit with the status a shell reports for that (128 + 13).
  if (error instanceof SignerError && error.code === 'OUTPUT_CLOSED' && !debug) return 141;
  if (error instanceof SignerError) {
    writeStderrQuietly(`roles-anywhere-signer: ${toTerminalText(error.message)}\n`);
    if (error.hint !== undefined) writeStderrQuietly(`hint: ${toTerminalText(error.hint)}\n`);
    if (debug) {
      writeStderrQuietly(`debug: error code ${error.code}\n`);
      let cause: unknown = error.cause;
      for (let depth = 0; cause !== undefined && depth < 5; depth++) {
        writeStderrQuietly(`debug: caused by ${toTerminalText(describeCause(cause))}\n`);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
    }
    // 130 = 128 + SIGINT: what a shell reports for Ctrl-C, so scripts can tell it from a failure.
    return error.code === 'USAGE' ? 2 : error.code === 'INTERRUPTED' ? 130 : 1;
  }
  writeStderrQuietly(`roles-anywhere-signer: unexpected error (${toTerminalText(describeCause(error).split('\n')[0] ?? '')}): rerun with --debug and report it\n`);
  if (debug && error instanceof Error && error.stack !== undefined) writeStderrQuietly(`${error.stack}\n`);
  return 1;
}

/**
 * Every command's work is over when main() resolves (serve and update resolve only after their
 * shutdown signal), so the process ends there instead of letting Node tear down a heap nobody
 * needs any more: a few ms of every credential_process call. What went through Node's stdout
 * and stderr streams is flushed first (std-output.ts), so no line is cut off.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  void flushStdStreams().then(() => process.exit(code));
}

// No top-level await: the standalone executable runs this file bundled as CommonJS
// (scripts/sea/build.ts). main() never rejects.
void main(process.argv).then(exitWhenFlushed);
