import type { Command } from 'commander';
import { SignerError } from '../errors.js';
import { addSigningOptions, identityOptionsFrom, sessionOptionsFrom, type SigningFlags } from './options.js';
import { debugFor, writeStdout } from './io.js';
import { stdStream } from '../std-output.js';

interface ServeFlags extends SigningFlags {
  port: string;
  hopLimit: string;
  bind: string;
  allowNonLoopback?: boolean;
  container?: boolean;
  containerTokenFile?: string;
}

export function registerServeCommand(program: Command): void {
  addSigningOptions(
    program
      .command('serve')
      .description('Serve credentials on a local IMDSv2 endpoint (or, with --container, a container credentials endpoint), refreshed in the background'),
  )
    .option('--port <port>', 'port to listen on (0 picks a free one)', '9911')
    .option('--hop-limit <hops>', 'IP TTL / IPv6 hop limit of answers, 1 to 255 (needs the native addon unless 64)', '64')
    .option('--bind <address>', 'loopback address to listen on: 127.0.0.1, another 127.x address or ::1', '127.0.0.1')
    .option('--allow-non-loopback', 'allow --bind on a non-loopback address (requires --hop-limit 1)')
    .option('--container', 'serve AWS_CONTAINER_CREDENTIALS_FULL_URI (with an Authorization token) instead of IMDSv2')
    .option('--container-token-file <path>', 'file holding the container Authorization token (created with a random token when missing)')
    .action(async (flags: ServeFlags) => {
      const { parseHopLimit, parsePort } = await import('../serve/bind.js');
      const { startCredentialService } = await import('../serve/serve.js');
      const { loadNativeAddon, hardenLongRunningProcess } = await import('../native.js');
      const { logToStderr, untilShutdownSignal, writeThroughStreams } = await import('./process.js');
      writeThroughStreams();
      if (flags.containerTokenFile !== undefined && flags.container !== true) {
        throw new SignerError('USAGE', '--container-token-file applies to the container endpoint: add --container');
      }
      const port = parsePort(flags.port);
      const hopLimit = parseHopLimit(flags.hopLimit);
      const native = loadNativeAddon(process.env);
      const warning = hardenLongRunningProcess(native, hopLimit);
      if (warning !== undefined) logToStderr(warning);

      const envToken = process.env['AWS_CONTAINER_AUTHORIZATION_TOKEN'];
      const tokenBuffer = envToken !== undefined && envToken !== '' ? Buffer.from(envToken, 'utf8') : undefined;
      const containerToken = flags.containerTokenFile !== undefined
        ? { kind: 'file' as const, path: flags.containerTokenFile }
        : tokenBuffer !== undefined ? { kind: 'value' as const, token: tokenBuffer } : { kind: 'generate' as const };
      // A generated token is shown once on stdout; under systemd or a pipe that is a log file.
      if (flags.container === true && containerToken.kind === 'generate' && stdStream('stdout').isTTY !== true) {
        throw new SignerError('USAGE', '--container needs a token source when stdout is not a terminal (a generated token would end up in logs): pass --container-token-file or set AWS_CONTAINER_AUTHORIZATION_TOKEN');
      }

      const service = await startCredentialService(
        {
          identity: identityOptionsFrom(flags),
          session: sessionOptionsFrom(flags),
          mode: flags.container === true ? 'container' : 'imds',
          bind: flags.bind,
          port,
          hopLimit,
          allowNonLoopback: flags.allowNonLoopback === true,
          containerToken,
        },
        { native, log: logToStderr, debug: debugFor(flags) },
      ).finally(() => tokenBuffer?.fill(0));
      await writeStdout(`${service.exports.join('\n')}\n`);

      const signal = await untilShutdownSignal();
      logToStderr(`${signal}: shutting down`);
      await service.close();
    });
}
