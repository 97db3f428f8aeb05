import { homedir } from 'node:os';
import type { Command } from 'commander';
import { formatExpiration } from '../credentials/types.js';
import { addSigningOptions, identityOptionsFrom, sessionOptionsFrom, type SigningFlags } from './options.js';
import { debugFor } from './io.js';

interface UpdateFlags extends SigningFlags {
  profile: string;
  once?: boolean;
}

export function registerUpdateCommand(program: Command): void {
  addSigningOptions(
    program
      .command('update')
      .description('Write credentials into a profile of the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) and keep them fresh'),
  )
    .option('--profile <name>', 'profile to write', 'default')
    .option('--once', 'write once and exit instead of refreshing before each expiry')
    .action(async (flags: UpdateFlags) => {
      const { credentialsFilePath } = await import('../update/write-file.js');
      const { updateOnce, startUpdateLoop } = await import('../update/update.js');
      const { logToStderr, untilShutdownSignal, writeThroughStreams } = await import('./process.js');
      const options = {
        identity: identityOptionsFrom(flags),
        session: sessionOptionsFrom(flags),
        profile: flags.profile,
        path: credentialsFilePath(process.env, homedir()),
      };
      const debug = debugFor(flags);
      if (flags.once === true) {
        const written = await updateOnce(options, { log: logToStderr, debug });
        debug(`wrote profile ${flags.profile} in ${written.path}; the credentials expire at ${formatExpiration(written.credentials.expiration)}`);
        return;
      }
      writeThroughStreams();
      const { loadNativeAddon, hardenLongRunningProcess } = await import('../native.js');
      const warning = hardenLongRunningProcess(loadNativeAddon(process.env));
      if (warning !== undefined) logToStderr(warning);
      const running = await startUpdateLoop(options, { log: logToStderr, debug });
      logToStderr(`keeping profile ${flags.profile} in ${options.path} fresh; stop with SIGTERM or Ctrl-C`);
      const signal = await untilShutdownSignal();
      logToStderr(`${signal}: shutting down`);
      await running.close();
    });
}
