import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '../../src/errors.js';
import { checkCredentialProcess, describeError, skipped, wallFigure, type BenchContext, type Section } from './context.js';
import type { RawSignConfig } from './pkcs11-raw.js';
import { firstLine, isolatedEnv, runToEnd } from './processes.js';
import { rateFigure, type RateBounds, type RateResult } from './rate.js';
import type { Figure } from './report.js';
import { formatNumber } from './stats.js';
import { measureKeySource } from './signing.js';
import { timeCommands } from './wall-time.js';
import { startBenchEmulator } from './world.js';

/** The part of scripts/fixtures/softhsm-token.sh's fixture.json the bench reads. */
interface SoftHsmFixture {
  readonly module: string;
  readonly conf: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly keys: readonly { readonly name: string; readonly id: string; readonly keyType: 'EC' | 'RSA'; readonly certificate: string }[];
}

const KEYS = [
  { name: 'ec-p256', label: 'EC P-256' },
  { name: 'rsa-2048', label: 'RSA-2048' },
] as const;
const BOUNDS: RateBounds = { maxMs: 1500, maxOperations: 50_000, warmupOperations: 20 };

/**
 * SoftHSM through the PKCS#11 KeySource (pkcs11js called directly, async C_Sign, one login)
 * beside a bare pkcs11js C_Sign loop on the same key, and a cold credential-process with a
 * pkcs11: URI (module load, C_Initialize, login, object search, sign, CreateSession).
 */
export const pkcs11Section: Section = {
  id: 'pkcs11',
  title: 'PKCS#11 (SoftHSM)',
  estimateMs: 40_000,
  async run(context) {
    const dir = join(context.scratchDir, 'softhsm');
    const built = await runToEnd('bash', [join(context.repoRoot, 'scripts', 'fixtures', 'softhsm-token.sh'), dir], {
      env: isolatedEnv({ FIXTURE_KEYS: KEYS.map((key) => key.name).join(' ') }),
      timeoutMs: 60_000,
      cleanup: context.cleanup,
    });
    if (built.code !== 0) return skipped(`the SoftHSM fixture (scripts/fixtures/softhsm-token.sh) failed: ${firstLine(built.stderr)}`);
    const fixture = JSON.parse(await readFile(join(dir, 'fixture.json'), 'utf8')) as SoftHsmFixture;

    let openSource: typeof import('../../src/keys/pkcs11/source.js').openPkcs11KeySource;
    try {
      ({ openPkcs11KeySource: openSource } = await import('../../src/keys/pkcs11/source.js'));
    } catch (error) {
      return skipped(`the PKCS#11 KeySource does not load: ${describeError(error)}`);
    }

    // SoftHSM reads SOFTHSM2_CONF at C_Initialize: this process must see only the bench token.
    const previousConf = process.env['SOFTHSM2_CONF'];
    process.env['SOFTHSM2_CONF'] = fixture.conf;
    const figures: Figure[] = [];
    try {
      for (const key of KEYS) {
        context.progress(`pkcs11: ${key.label} signatures`);
        const entry = fixture.keys.find((candidate) => candidate.name === key.name);
        if (entry === undefined) throw new SignerError('INTERNAL', `the SoftHSM fixture has no ${key.name} key`);
        const certificate = new Uint8Array(await readFile(join(dir, entry.certificate)));
        const intermediate = new Uint8Array(await readFile(join(dir, 'pki', 'intermediate-ca.der')));
        const open = () => openSource({
          kind: 'pkcs11',
          certificateUri: `pkcs11:token=${fixture.tokenLabel};object=${key.name};type=cert`,
          modulePath: fixture.module,
          pin: { value: fixture.pin },
          reusePin: false,
        });
        const viaSource = await measureKeySource(context.cleanup, open, certificate, [intermediate], BOUNDS);
        const raw = await measureRawLoop(context, fixture, { module: fixture.module, tokenLabel: fixture.tokenLabel, keyIdHex: entry.id, keyType: entry.keyType, certificatePath: join(dir, entry.certificate), bounds: BOUNDS });
        figures.push(
          rateFigure(`pkcs11.${key.name}.keysource`, `signRequest via PKCS#11 KeySource, SoftHSM ${key.label}`, viaSource, `${formatNumber((viaSource.perSecond / raw.sync.perSecond) * 100)}% of the raw C_Sign loop`),
          rateFigure(`pkcs11.${key.name}.raw-sync`, `raw pkcs11js C_SignInit+C_Sign (sync), SoftHSM ${key.label}`, raw.sync, "the token's limit from Node"),
          rateFigure(`pkcs11.${key.name}.raw-async`, `raw pkcs11js C_SignInit+C_SignAsync, SoftHSM ${key.label}`, raw.async),
        );
      }

      context.progress('pkcs11: credential-process cold');
      const endpoint = await startBenchEmulator([await readFile(join(dir, 'pki', 'root-ca.pem'), 'utf8')], context.cleanup);
      const args = [
        'credential-process',
        '--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`,
        '--pkcs11-lib', fixture.module,
        ...endpoint.sessionFlags,
      ];
      const env = isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: fixture.pin });
      await checkCredentialProcess(context, args, env);
      const [baseline, cold] = await timeCommands(
        [
          { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
          { name: 'credential-process pkcs11 EC P-256', command: process.execPath, args: [context.cliPath, ...args] },
        ],
        { tool: context.wallTool, env, runs: context.runs, warmup: context.warmup, timeoutMs: 90_000, scratchDir: context.scratchDir, cleanup: context.cleanup },
      );
      if (baseline === undefined || cold === undefined) throw new SignerError('INTERNAL', 'the timing tool returned fewer results than commands');
      figures.push(wallFigure('pkcs11.credential-process.ec-p256', '`roles-anywhere-signer credential-process`, SoftHSM EC P-256 (pkcs11: URI, PIN from env)', cold, { baseline: { result: baseline, name: '`node -e 0` timed beside it' } }));
    } finally {
      if (previousConf === undefined) delete process.env['SOFTHSM2_CONF'];
      else process.env['SOFTHSM2_CONF'] = previousConf;
    }
    return {
      status: 'ran',
      figures,
      notes: [
        'signatures are one after another (a session runs one operation at a time); the KeySource figure includes signRequest (canonicalization) and raw r||s to DER for EC',
        'SoftHSM signs in software: a smart card or YubiKey takes far longer per signature, so there the token, not this code, sets the rate',
      ],
    };
  },
};

async function measureRawLoop(context: BenchContext, fixture: SoftHsmFixture, config: RawSignConfig): Promise<{ sync: RateResult; async: RateResult }> {
  const result = await runToEnd(process.execPath, [join(context.benchDir, 'pkcs11-raw.js'), JSON.stringify(config)], {
    env: isolatedEnv({ SOFTHSM2_CONF: fixture.conf, BENCH_PKCS11_PIN: fixture.pin }),
    timeoutMs: 30_000,
    cleanup: context.cleanup,
  });
  if (result.code !== 0) throw new SignerError('INTERNAL', `the raw pkcs11js loop failed: ${firstLine(result.stderr)}`);
  return JSON.parse(result.stdout) as { sync: RateResult; async: RateResult };
}
