import { Command } from 'commander';

/**
 * The composition root of the CLI: one commander program, one register function per command.
 * Each command file exports `register<Name>Command(program)`; its action parses flags into an
 * options object and makes one library call. Errors are thrown as SignerError and printed by
 * main.ts as one line.
 */
export function buildProgram(): Command {
  const program = new Command('roles-anywhere-signer');
  return program;
}
