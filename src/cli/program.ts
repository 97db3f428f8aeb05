import { Command } from 'commander';
import { packageVersion } from '../version.js';
import { registerCredentialProcessCommand } from './credential-process.js';
import { registerSignStringCommand } from './sign-string.js';
import { registerReadCertificateDataCommand } from './read-certificate-data.js';
import { registerVersionCommand } from './version.js';
import { registerEmulateCommand } from './emulate.js';
import { registerServeCommand } from './serve.js';
import { registerUpdateCommand } from './update.js';
import { registerListCommand } from './pkcs11.js';
import { registerEnrollCommand } from './enroll.js';
import { registerDoctorCommand } from './doctor.js';
import { applyHelp } from './help.js';

/**
 * The composition root of the CLI: one commander program, one register function per command.
 * Each command file exports `register<Name>Command(program)`; its action parses flags into an
 * options object and makes one library call, importing the library lazily so that start-up
 * stays cheap. Errors are thrown as SignerError and printed by main.ts as one line.
 */
export function buildProgram(invokedAs = 'roles-anywhere-signer'): Command {
  const program = new Command('roles-anywhere-signer')
    .description('Temporary AWS credentials from IAM Roles Anywhere, signed with keys in PKCS#11 tokens, TPM 2.0 or files')
    .version(packageVersion(), '-v, --version')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(text) })
    .exitOverride();
  for (const register of [
    registerCredentialProcessCommand,
    registerSignStringCommand,
    registerReadCertificateDataCommand,
    registerListCommand,
    registerEnrollCommand,
    registerDoctorCommand,
    registerServeCommand,
    registerUpdateCommand,
    registerEmulateCommand,
    registerVersionCommand,
  ]) {
    register(program);
  }
  // Help content lives in help.ts so command files only declare flags; the name is the one
  // the user typed (aws_signing_helper through a migration symlink).
  applyHelp(program, invokedAs);
  return program;
}
