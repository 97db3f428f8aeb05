import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '../../src/errors.js';
import { checkCredentialProcess, describeError, skipped, wallFigure, type BenchContext, type Section } from './context.js';
import { firstLine, isolatedEnv, runToEnd } from './processes.js';
import { rateFigure, type RateBounds } from './rate.js';
import type { Figure } from './report.js';
import { formatNumber } from './stats.js';
import { measureKeySource, verifiesWithCertificate } from './signing.js';
import { timeCommands } from './wall-time.js';
import { startBenchEmulator } from './world.js';

const KEYS = [
  { name: 'ec-p256', label: 'EC P-256' },
  { name: 'rsa-2048', label: 'RSA-2048' },
] as const;
const BOUNDS: RateBounds = { maxMs: 2000, maxOperations: 20_000, warmupOperations: 5 };

/**
 * swtpm through the TPM KeySource (our TPM 2.0 command layer over TCP: the key is loaded once,
 * then one TPM2_Sign per signature) beside `openssl pkeyutl -provider tpm2` on the same TSS2
 * key file, which is a whole process per signature (provider load, CreatePrimary, Load, Sign,
 * Flush); and a cold credential-process with the TSS2 key file.
 */
export const tpmSection: Section = {
  id: 'tpm',
  title: 'TPM 2.0 (swtpm)',
  estimateMs: 45_000,
  async run(context) {
    let fixtures: typeof import('../fixtures/swtpm.js');
    let openSource: typeof import('../../src/keys/tpm/source.js').openTpmKeySource;
    try {
      fixtures = await import('../fixtures/swtpm.js');
      ({ openTpmKeySource: openSource } = await import('../../src/keys/tpm/source.js'));
    } catch (error) {
      return skipped(`the TPM code does not load: ${describeError(error)}`);
    }
    for (const tool of ['swtpm', 'tpm2_createprimary']) {
      // startSwtpm cannot report a missing binary itself (spawn's ENOENT arrives as an event).
      if (!(await isInstalled(tool, context))) return skipped(`${tool} is not installed: apt-get install swtpm swtpm-tools tpm2-tools tpm2-openssl`);
    }
    const dir = join(context.scratchDir, 'tpm');
    let swtpm;
    try {
      swtpm = await fixtures.startSwtpm({ stateDir: join(dir, 'state'), mode: 'tcp' });
    } catch (error) {
      return skipped(`swtpm does not start (apt-get install swtpm swtpm-tools): ${describeError(error)}`);
    }
    context.cleanup.defer('stop swtpm', () => swtpm.stop());
    let fixture;
    try {
      fixture = await fixtures.createTpmKeys(swtpm, join(dir, 'keys'), KEYS.map((key) => key.name), context.pki.intermediate);
    } catch (error) {
      return skipped(`TPM keys cannot be made (needs tpm2-tools and tpm2-openssl): ${describeError(error)}`);
    }

    const figures: Figure[] = [];
    const chain = [context.pki.intermediate.certificateDer];
    const toolEnv = isolatedEnv({ TPM2OPENSSL_TCTI: fixture.tcti, TSS2_LOG: 'all+NONE' });
    for (const key of KEYS) {
      const entry = fixture.keys[key.name];
      if (entry?.keyPath === undefined) throw new SignerError('INTERNAL', `the TPM fixture has no ${key.name} key file`);
      const keyPath = entry.keyPath;

      context.progress(`tpm: ${key.label} via the KeySource`);
      const viaSource = await measureKeySource(
        context.cleanup,
        () => openSource({ kind: 'tpm', keyFile: keyPath, password: {}, noPassword: true, tcti: fixture.tcti }),
        entry.certificateDer,
        chain,
        BOUNDS,
      );

      // swtpm serves one client at a time: the KeySource above is closed before openssl runs.
      context.progress(`tpm: ${key.label} via openssl pkeyutl`);
      const message = Buffer.from(`bench string to sign for ${key.name}`);
      const digestPath = join(dir, `${key.name}.digest`);
      const signaturePath = join(dir, `${key.name}.sig`);
      await writeFile(digestPath, createHash('sha256').update(message).digest());
      const pkeyutl = ['pkeyutl', '-provider', 'tpm2', '-provider', 'default', '-sign', '-inkey', keyPath, '-in', digestPath, '-out', signaturePath];
      const once = await runToEnd('openssl', pkeyutl, { env: toolEnv, timeoutMs: 30_000, cleanup: context.cleanup });
      if (once.code !== 0) return skipped(`openssl pkeyutl -provider tpm2 fails (apt-get install tpm2-openssl): ${firstLine(once.stderr)}`);
      if (!verifiesWithCertificate(entry.certificateDer, message, await readFile(signaturePath), entry.keyType)) {
        throw new SignerError('INTERNAL', `openssl pkeyutl's ${key.name} signature does not verify with the certificate`);
      }
      const [perProcess] = await timeCommands([{ name: `openssl pkeyutl ${key.name}`, command: 'openssl', args: pkeyutl }], {
        tool: context.wallTool, env: toolEnv, runs: context.runs, warmup: context.warmup, timeoutMs: 60_000, scratchDir: context.scratchDir, cleanup: context.cleanup,
      });
      if (perProcess === undefined) throw new SignerError('INTERNAL', 'the timing tool returned no result');
      const processRate = 1000 / perProcess.summary.medianMs;
      figures.push(
        rateFigure(`tpm.${key.name}.keysource`, `signRequest via TPM KeySource, swtpm ${key.label}`, viaSource, `${formatNumber(viaSource.perSecond / processRate)}x the openssl rate below`),
        wallFigure(`tpm.${key.name}.openssl-pkeyutl`, `\`openssl pkeyutl -provider tpm2\`, one process per signature, ${key.label}`, perProcess, { note: `per-process cost; 1 / median = ${formatNumber(processRate)} signatures/s` }),
      );
    }

    context.progress('tpm: credential-process cold');
    const endpoint = await startBenchEmulator([context.pki.root.certificatePem], context.cleanup);
    const ec = fixture.keys['ec-p256'];
    if (ec?.keyPath === undefined) throw new SignerError('INTERNAL', 'the TPM fixture has no ec-p256 key file');
    const args = [
      'credential-process',
      '--private-key', ec.keyPath,
      '--certificate', ec.certificatePath,
      '--intermediates', context.pki.intermediatePath,
      '--tpm-tcti', fixture.tcti,
      ...endpoint.sessionFlags,
    ];
    const env = isolatedEnv();
    await checkCredentialProcess(context, args, env);
    const [baseline, cold] = await timeCommands(
      [
        { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
        { name: 'credential-process tpm EC P-256', command: process.execPath, args: [context.cliPath, ...args] },
      ],
      { tool: context.wallTool, env, runs: context.runs, warmup: context.warmup, timeoutMs: 90_000, scratchDir: context.scratchDir, cleanup: context.cleanup },
    );
    if (baseline === undefined || cold === undefined) throw new SignerError('INTERNAL', 'the timing tool returned fewer results than commands');
    figures.push(wallFigure('tpm.credential-process.ec-p256', '`roles-anywhere-signer credential-process`, TSS2 EC P-256 key file on swtpm', cold, { baseline: { result: baseline, name: '`node -e 0` timed beside it' } }));
    return {
      status: 'ran',
      figures,
      notes: [
        `swtpm over TCP on 127.0.0.1 (${fixture.tcti.replace(/port=\d+/, 'port=<free>')}); swtpm computes in software: a hardware TPM takes far longer per command, so on a real chip the chip sets the rate`,
        'openssl pkeyutl is timed per process (start, tpm2 provider, CreatePrimary, Load, Sign, flush): the cost of shelling out per signature, not a per-signature rate of a warm client',
      ],
    };
  },
};

async function isInstalled(tool: string, context: BenchContext): Promise<boolean> {
  try {
    await runToEnd(tool, ['--version'], { env: isolatedEnv(), timeoutMs: 10_000, cleanup: context.cleanup });
    return true;
  } catch {
    return false;
  }
}
