import type { Command } from 'commander';
import { addSigningOptions, identityOptionsFrom, sessionOptionsFrom, type SigningFlags } from './options.js';
import { debugFor, writeStdout } from './io.js';

export function registerCredentialProcessCommand(program: Command): void {
  addSigningOptions(
    program
      .command('credential-process')
      .description('Print temporary credentials as credential_process JSON (for ~/.aws/config)'),
  ).action(async (flags: SigningFlags) => {
    const { obtainCredentialsOnce } = await import('../credentials/obtain.js');
    const { formatCredentialProcessOutput } = await import('../credentials/process-output.js');
    const credentials = await obtainCredentialsOnce({
      identity: identityOptionsFrom(flags, process.env),
      session: sessionOptionsFrom(flags),
      debug: debugFor(flags),
    });
    await writeStdout(formatCredentialProcessOutput(credentials));
  });
}
