import type { Command } from 'commander';
import { writeStdout } from './io.js';
import { writeStderrQuietly } from '../std-output.js';

interface EmulateFlags {
  config?: string;
  port?: string;
  host?: string;
  region?: string;
  trustAnchorCert?: string[];
  init?: string;
  keyType?: string;
  quiet?: boolean;
}

export function registerEmulateCommand(program: Command): void {
  program
    .command('emulate')
    .description('Run a local IAM Roles Anywhere CreateSession endpoint (plus STS GetCallerIdentity) that verifies requests like the service')
    .option('--config <file>', 'emulator config (JSON): region, accountId, trustAnchors, profiles; see docs/emulator.md')
    .option('--port <n>', 'port to listen on (default 0: any free port; the URL is printed)')
    .option('--host <address>', 'address to bind (default 127.0.0.1)')
    .option('--region <region>', 'the region the emulator serves (overrides the config)')
    .option('--trust-anchor-cert <pem...>', 'CA certificate file(s) to trust: added to the first trust anchor, or the only one without --config')
    .option('--init <dir>', 'write a throwaway CA, a client key and certificate, and a config into DIR, then exit')
    .option('--key-type <type>', 'with --init: the client key, ec-p256 (default), ec-p384, rsa-2048, rsa-3072, ml-dsa-44, ml-dsa-65 or ml-dsa-87 (an ML-DSA client gets an ML-DSA CA too)')
    .option('--quiet', 'do not log one line per request on stderr')
    .action(async (flags: EmulateFlags) => {
      if (flags.init !== undefined) {
        const { initEmulatorDirectory } = await import('../emulator/init.js');
        const { parsePortFlag } = await import('../emulator/launch.js');
        const port = parsePortFlag(flags.port);
        const { parseInitKeyType } = await import('../emulator/init.js');
        const keyAlgorithm = flags.keyType === undefined ? undefined : parseInitKeyType(flags.keyType);
        const result = await initEmulatorDirectory(flags.init, {
          ...(keyAlgorithm === undefined ? {} : { keyAlgorithm }),
          ...(flags.region === undefined ? {} : { region: flags.region }),
          ...(port === undefined || port === 0 ? {} : { port }),
        });
        await writeStdout(`${result.instructions}\n`);
        return;
      }
      const { launchEmulator, parsePortFlag } = await import('../emulator/launch.js');
      const { writeThroughStreams } = await import('./process.js');
      writeThroughStreams();
      const port = parsePortFlag(flags.port);
      const emulator = await launchEmulator({
        ...(flags.config === undefined ? {} : { configPath: flags.config }),
        ...(flags.region === undefined ? {} : { region: flags.region }),
        ...(flags.trustAnchorCert === undefined ? {} : { trustAnchorCertificatePaths: flags.trustAnchorCert }),
        ...(port === undefined ? {} : { port }),
        ...(flags.host === undefined ? {} : { host: flags.host }),
        ...(flags.quiet === true ? {} : { log: (line: string) => writeStderrQuietly(`emulate: ${line}\n`) }),
      });
      // The URL alone on stdout, so scripts can capture it: URL=$(... emulate ... | head -1).
      await writeStdout(`${emulator.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emulator.close();
    });
}
