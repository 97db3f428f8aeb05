#!/usr/bin/env node
import { CommanderError } from 'commander';
import { SignerError, describeCause } from '../errors.js';
import { buildProgram } from './program.js';
import { invokedName } from './help.js';

/**
 * Every failure ends here as one line on stderr and a non-zero exit; no stack trace reaches a
 * user. --debug adds the error code and the cause chain (which never holds secrets).
 */
async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram(invokedName(argv[1]));
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
  if (error instanceof SignerError) {
    process.stderr.write(`roles-anywhere-signer: ${error.message}\n`);
    if (debug) {
      process.stderr.write(`debug: error code ${error.code}\n`);
      let cause: unknown = error.cause;
      for (let depth = 0; cause !== undefined && depth < 5; depth++) {
        process.stderr.write(`debug: caused by ${describeCause(cause)}\n`);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
    }
    return error.code === 'USAGE' ? 2 : 1;
  }
  process.stderr.write(`roles-anywhere-signer: unexpected error (${describeCause(error).split('\n')[0]}): rerun with --debug and report it\n`);
  if (debug && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  return 1;
}

process.exitCode = await main(process.argv);
