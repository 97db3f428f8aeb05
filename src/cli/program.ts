import type { Command as CommandType } from 'commander';
import { Command } from './commander.js';
import { packageVersion } from '../version.js';
import { applyHelp } from './help.js';
import { COMMANDER_OUTPUT } from './io.js';

type Register = (program: CommandType) => void;

/**
 * Every command, in the order help lists them, each file loaded only when needed: a run of one
 * command registers (and so loads) only that command's file; help, a typo or no command load all.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['credential-process', async () => (await import('./credential-process.js')).registerCredentialProcessCommand],
  ['sign-string', async () => (await import('./sign-string.js')).registerSignStringCommand],
  ['read-certificate-data', async () => (await import('./read-certificate-data.js')).registerReadCertificateDataCommand],
  ['list', async () => (await import('./pkcs11.js')).registerListCommand],
  ['enroll', async () => (await import('./enroll.js')).registerEnrollCommand],
  ['doctor', async () => (await import('./doctor.js')).registerDoctorCommand],
  ['serve', async () => (await import('./serve.js')).registerServeCommand],
  ['update', async () => (await import('./update.js')).registerUpdateCommand],
  ['emulate', async () => (await import('./emulate.js')).registerEmulateCommand],
  ['version', async () => (await import('./version.js')).registerVersionCommand],
];

/**
 * The composition root of the CLI: one commander program, one register function per command.
 * Each command file exports `register<Name>Command(program)`; its action parses flags into an
 * options object and makes one library call, importing the library lazily so that start-up
 * stays cheap. Errors are thrown as SignerError and printed by main.ts as one line.
 */
export async function buildProgram(argv: readonly string[] = [], invokedAs = 'roles-anywhere-signer'): Promise<CommandType> {
  const program = new Command('roles-anywhere-signer')
    .description('Temporary AWS credentials from IAM Roles Anywhere, signed with keys in PKCS#11 tokens, TPM 2.0 or files')
    .version(packageVersion(), '-v, --version')
    .showSuggestionAfterError()
    .configureOutput(COMMANDER_OUTPUT)
    .exitOverride();
  // argv[2] is the command when one is named (flags of the program itself all start with '-').
  const named = COMMANDS.find(([name]) => name === argv[2]);
  const registers = await Promise.all((named === undefined ? COMMANDS : [named]).map(([, load]) => load()));
  for (const register of registers) register(program);
  // Help content lives in help.ts so command files only declare flags; the name is the one
  // the user typed (aws_signing_helper through a migration symlink).
  applyHelp(program, invokedAs);
  return program;
}
