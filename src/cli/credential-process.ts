import { homedir } from 'node:os';
import type { Command } from 'commander';
import { addSigningOptions, identityOptionsFrom, sessionOptionsFrom, type SigningFlags } from './options.js';
import { debugFor, writeStdout } from './io.js';

interface CredentialProcessFlags extends SigningFlags {
  cache?: boolean;
}

export function registerCredentialProcessCommand(program: Command): void {
  addSigningOptions(
    program
      .command('credential-process')
      .description('Print temporary credentials as credential_process JSON (for ~/.aws/config)'),
  )
    .option('--cache', 'reuse credentials while more than 15 minutes remain (stored 0600 in $XDG_RUNTIME_DIR or ~/.cache)')
    .action(async (flags: CredentialProcessFlags) => {
      const { formatCredentialProcessOutput } = await import('../credentials/process-output.js');
      const options = {
        identity: identityOptionsFrom(flags),
        session: sessionOptionsFrom(flags),
        debug: debugFor(flags),
      };
      let credentials;
      if (flags.cache === true) {
        const { obtainCredentialsCached, defaultCacheDirectory } = await import('../credentials/cache.js');
        credentials = await obtainCredentialsCached({
          ...options,
          cacheDirectory: defaultCacheDirectory(process.env, homedir()),
          uid: process.getuid?.(),
        });
      } else {
        const { obtainCredentialsOnce } = await import('../credentials/obtain.js');
        credentials = await obtainCredentialsOnce({ ...options, explainRefusal: true });
      }
      await writeStdout(formatCredentialProcessOutput(credentials));
    });
}
