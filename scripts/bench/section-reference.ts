import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SignerError } from '../../src/errors.js';
import { findReferenceHelper, type ReferenceHelper } from '../fixtures/reference-helper.js';
import { checkCredentialProcess, describeError, skipped, wallFigure, type BenchContext, type Section } from './context.js';
import { startDelayProxy } from './delay-proxy.js';
import { firstLine, isolatedEnv, runToEnd, startBackground } from './processes.js';
import type { Figure } from './report.js';
import { mib, residentMemory, runAutocannon, type Autocannon, type AutocannonResult } from './section-serve.js';
import { formatNumber, round3, summarize } from './stats.js';
import { timeCommands, type TimedCommand, type WallResult } from './wall-time.js';
import { startBenchEmulator, ROLE_NAME } from './world.js';
import { freeLoopbackPort } from '../fixtures/free-port.js';

const ROUNDS = 4;
const SERVE_CONNECTIONS = 64;
const SERVE_DURATION_S = 5;
const SERVE_WARMUP_S = 1;

/**
 * Side by side with the reference helper (aws/rolesanywhere-credential-helper, built by
 * scripts/fixtures/reference-helper.ts), in the same run and interleaved: the commands are timed
 * in ROUNDS rounds, each round running every command in turn, so load that comes and goes hits
 * all of them alike. Floors: `node -e 0` and the reference itself. Optionally every
 * CreateSession answer is held back by --network-delay-ms, as a real round trip would be.
 */
export const referenceSection: Section = {
  id: 'reference',
  title: 'against the reference helper (same run, interleaved)',
  estimateMs: 75_000,
  async run(context) {
    const found = await findReferenceHelper();
    if (!found.ok) return skipped(found.reason);
    const reference = found.value;
    const delayMs = context.networkDelayMs;

    // One emulator trusting the bench CA and the SoftHSM fixture's CA, behind the delay relay.
    const softhsmDir = join(context.scratchDir, 'reference-softhsm');
    const built = await runToEnd('bash', [join(context.repoRoot, 'scripts', 'fixtures', 'softhsm-token.sh'), softhsmDir], {
      env: isolatedEnv({ FIXTURE_KEYS: 'ec-p256' }),
      timeoutMs: 60_000,
      cleanup: context.cleanup,
    });
    const haveSoftHsm = built.code === 0;
    const softhsmRoot = haveSoftHsm ? [await readFile(join(softhsmDir, 'pki', 'root-ca.pem'), 'utf8')] : [];
    const emulator = await startBenchEmulator([context.pki.root.certificatePem, ...softhsmRoot], context.cleanup);
    const endpointUrl = delayMs > 0 ? await startDelayProxy(emulator.url, delayMs, context.cleanup) : emulator.url;
    const sessionFlags = emulator.sessionFlags.map((flag) => (flag === emulator.url ? endpointUrl : flag));

    const identity = await context.pki.issueFileIdentity('reference-ec-p256', 'EC-P256');
    const fileArgs = ['credential-process', '--certificate', identity.certificatePath, '--private-key', identity.keyPath, '--intermediates', context.pki.intermediatePath, ...sessionFlags];
    const runtimeDir = join(context.scratchDir, 'reference-xdg-runtime');
    const env: NodeJS.ProcessEnv = isolatedEnv({ XDG_RUNTIME_DIR: runtimeDir, XDG_CACHE_HOME: undefined, ...(haveSoftHsm ? { SOFTHSM2_CONF: join(softhsmDir, 'softhsm2.conf') } : {}) });
    await runToEnd('mkdir', ['-p', '-m', '700', runtimeDir], { env, timeoutMs: 5000, cleanup: context.cleanup });

    const commands: TimedCommand[] = [
      { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
      { name: 'reference file', command: reference.path, args: fileArgs },
      { name: 'ours file', command: process.execPath, args: [context.cliPath, ...fileArgs] },
      { name: 'ours --cache warm', command: process.execPath, args: [context.cliPath, ...fileArgs, '--cache'] },
    ];
    // Each command must work before it is timed (a failing command times its failure).
    await checkReference(context, reference, fileArgs, env);
    await checkCredentialProcess(context, fileArgs, env);
    await checkCredentialProcess(context, [...fileArgs, '--cache'], env);
    const sessionsBeforeWarm = emulator.stats().createSession;
    await checkCredentialProcess(context, [...fileArgs, '--cache'], env);
    if (emulator.stats().createSession !== sessionsBeforeWarm) throw new SignerError('INTERNAL', 'a filled --cache still called CreateSession: no warm figure');

    const notes: string[] = [];
    if (haveSoftHsm) {
      const pkcs11Args = await softhsmArgs(softhsmDir, sessionFlags);
      await checkReference(context, reference, pkcs11Args, env);
      await checkCredentialProcess(context, pkcs11Args, env);
      commands.push(
        { name: 'reference SoftHSM', command: reference.path, args: pkcs11Args },
        { name: 'ours SoftHSM', command: process.execPath, args: [context.cliPath, ...pkcs11Args] },
      );
    } else {
      notes.push(`SoftHSM rows skipped: the fixture failed: ${firstLine(built.stderr)}`);
    }
    const tpm = await tpmWorld(context, sessionFlags);
    if (tpm.ok) {
      env['TPM_DEVICE'] = tpm.socketPath;
      const onTerminal = (command: readonly string[]): string[] => ['-qec', command.map(shellQuote).join(' '), '/dev/null'];
      const referenceTpm = onTerminal([reference.path, ...tpm.args]);
      const ourTpm = onTerminal([process.execPath, context.cliPath, ...tpm.args]);
      for (const [who, args] of [['reference', referenceTpm], ['ours', ourTpm]] as const) {
        const checked = await runToEnd('script', args, { env, timeoutMs: 60_000, cleanup: context.cleanup });
        // stdout holds a secret key: only its shape is looked at.
        if (checked.code !== 0 || !checked.stdout.trim().startsWith('{"Version":1,"AccessKeyId":')) {
          throw new SignerError('INTERNAL', `${who} credential-process with the TPM key failed under script (exit ${checked.code ?? checked.signal}): ${firstLine(checked.stderr || checked.stdout)}`);
        }
      }
      commands.push(
        { name: 'script floor', command: 'script', args: onTerminal(['true']) },
        { name: 'reference TPM', command: 'script', args: referenceTpm },
        { name: 'ours TPM', command: 'script', args: ourTpm },
      );
      notes.push(`TPM rows: ${reference.version} opens /dev/tty before every TPM signature, so both programs run under util-linux script (a pseudo-terminal), whose own cost is the "script -qec true" row`);
    } else {
      notes.push(`TPM rows skipped: ${tpm.reason}`);
    }

    context.progress(`reference: ${commands.length} commands x ${ROUNDS} interleaved rounds (${reference.version}${delayMs > 0 ? `, ${delayMs} ms network delay` : ''})`);
    const results = await interleaved(context, commands, env);
    const byName = (name: string): WallResult => {
      const result = results.find((candidate) => candidate.name === name);
      if (result === undefined) throw new SignerError('INTERNAL', `no timing for ${name}`);
      return result;
    };
    const baseline = { result: byName('node -e 0'), name: '`node -e 0`' };
    const versus = (ours: WallResult, theirs: WallResult): string => `${formatNumber(ours.summary.medianMs / theirs.summary.medianMs)}x the reference's median`;
    const label = `${reference.version}`;
    const figures: Figure[] = [
      wallFigure('reference.node-baseline', '`node -e 0` (Node start-up floor)', byName('node -e 0')),
      wallFigure('reference.file.reference', `reference ${label} credential-process, EC P-256 key file`, byName('reference file'), { note: 'the floor to beat' }),
      wallFigure('reference.file.ours', '`roles-anywhere-signer credential-process`, the same key file', byName('ours file'), { baseline, note: versus(byName('ours file'), byName('reference file')) }),
      wallFigure('reference.cache.ours', '`roles-anywhere-signer credential-process --cache`, cache filled', byName('ours --cache warm'), { baseline, note: `${versus(byName('ours --cache warm'), byName('reference file'))} (the reference has no cache: its cold call)` }),
    ];
    if (haveSoftHsm) {
      figures.push(
        wallFigure('reference.softhsm.reference', `reference ${label} credential-process, SoftHSM EC P-256 (pkcs11: URI)`, byName('reference SoftHSM')),
        wallFigure('reference.softhsm.ours', '`roles-anywhere-signer credential-process`, the same SoftHSM key', byName('ours SoftHSM'), { baseline, note: versus(byName('ours SoftHSM'), byName('reference SoftHSM')) }),
      );
    }

    if (tpm.ok) {
      const floor = { result: byName('script floor'), name: '`script -qec true`' };
      figures.push(
        wallFigure('reference.tpm.script-floor', '`script -qec true` (the pseudo-terminal wrapper alone)', byName('script floor')),
        wallFigure('reference.tpm.reference', `reference ${label} credential-process, TSS2 EC P-256 key on swtpm, under script`, byName('reference TPM'), { baseline: floor }),
        wallFigure('reference.tpm.ours', '`roles-anywhere-signer credential-process`, the same TPM key, under script', byName('ours TPM'), { baseline: floor, note: versus(byName('ours TPM'), byName('reference TPM')) }),
      );
    }

    const serveFigures = await compareServe(context, reference, identity, sessionFlags);
    figures.push(...serveFigures.figures);
    notes.push(...serveFigures.notes);
    notes.push(
      `reference: aws/rolesanywhere-credential-helper ${reference.version} built with ${'`go install`'} (the newest the Go module proxy serves here)`,
      `interleaved: ${ROUNDS} rounds, each timing every command in turn (${Math.ceil(context.runs / ROUNDS)} runs per round, warm-up in the first round only)`,
      delayMs > 0 ? `every CreateSession answer held back ${delayMs} ms by a relay in front of the emulator (--network-delay-ms)` : 'no network delay: the emulator answers on 127.0.0.1 in about a millisecond, which flatters every cold call; see --network-delay-ms',
    );
    return { status: 'ran', figures, notes };
  },
};

/** Round after round of every command, samples merged per command. */
async function interleaved(context: BenchContext, commands: readonly TimedCommand[], env: NodeJS.ProcessEnv): Promise<WallResult[]> {
  const perRound = Math.max(2, Math.ceil(context.runs / ROUNDS));
  const samples = new Map<string, number[]>(commands.map((command) => [command.name, []]));
  let cutShort = false;
  for (let round = 0; round < ROUNDS; round++) {
    const results = await timeCommands(commands, {
      tool: context.wallTool,
      env,
      runs: perRound,
      warmup: round === 0 ? context.warmup : 0,
      timeoutMs: 90_000,
      scratchDir: context.scratchDir,
      cleanup: context.cleanup,
    });
    for (const result of results) {
      samples.get(result.name)?.push(...result.samplesMs);
      cutShort ||= result.cutShort;
    }
  }
  return commands.map((command) => {
    const samplesMs = samples.get(command.name) ?? [];
    return { name: command.name, samplesMs, summary: summarize(samplesMs), cutShort };
  });
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A TSS2 EC P-256 key made in swtpm over TCP (the key tools reach it only there), then swtpm
 * restarted on the same state behind a UNIX socket: the one form of TPM_DEVICE the reference
 * takes besides a device node. Ours reads TPM_DEVICE too.
 */
async function tpmWorld(context: BenchContext, sessionFlags: readonly string[]): Promise<{ ok: true; socketPath: string; args: string[] } | { ok: false; reason: string }> {
  try {
    const fixtures = await import('../fixtures/swtpm.js');
    const stateDir = join(context.scratchDir, 'reference-tpm', 'state');
    const tcp = await fixtures.startSwtpm({ stateDir, mode: 'tcp' });
    let fixture;
    try {
      fixture = await fixtures.createTpmKeys(tcp, join(context.scratchDir, 'reference-tpm', 'keys'), ['ec-p256'], context.pki.intermediate);
    } finally {
      await tcp.stop();
    }
    const key = fixture.keys['ec-p256'];
    if (key?.keyPath === undefined) return { ok: false, reason: 'the TPM fixture made no EC P-256 key file' };
    const unix = await fixtures.startSwtpm({ stateDir, mode: 'unix' });
    context.cleanup.defer('stop the reference section swtpm', () => unix.stop());
    if (unix.socketPath === undefined) return { ok: false, reason: 'swtpm in UNIX socket mode gave no socket path' };
    return {
      ok: true,
      socketPath: unix.socketPath,
      args: ['credential-process', '--certificate', key.certificatePath, '--private-key', key.keyPath, '--intermediates', context.pki.intermediatePath, ...sessionFlags],
    };
  } catch (error) {
    return { ok: false, reason: `swtpm or the TPM key tools do not work here (apt-get install swtpm swtpm-tools tpm2-tools tpm2-openssl): ${describeError(error)}` };
  }
}

async function checkReference(context: BenchContext, reference: ReferenceHelper, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runToEnd(reference.path, args, { env, timeoutMs: 60_000, cleanup: context.cleanup });
  // stdout holds a secret key: only its shape is looked at.
  if (result.code !== 0 || !result.stdout.startsWith('{"Version":1,"AccessKeyId":')) {
    throw new SignerError('INTERNAL', `the reference ${args[0] ?? ''} failed (exit ${result.code ?? result.signal}): ${firstLine(result.stderr)}`);
  }
}

/** Flags for the fixture's EC P-256 token key: certificate and chain as files, key as a URI. */
async function softhsmArgs(dir: string, sessionFlags: readonly string[]): Promise<string[]> {
  const fixture = JSON.parse(await readFile(join(dir, 'fixture.json'), 'utf8')) as { module: string; tokenLabel: string; pin: string; keys: { name: string; certificate: string }[] };
  const key = fixture.keys.find((candidate) => candidate.name === 'ec-p256');
  if (key === undefined) throw new SignerError('INTERNAL', 'the SoftHSM fixture has no ec-p256 key');
  const pem = (der: Buffer, label: string): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
  const certificatePath = join(dir, 'reference-leaf.pem');
  const chainPath = join(dir, 'reference-chain.pem');
  await writeFile(certificatePath, pem(await readFile(join(dir, key.certificate)), 'CERTIFICATE'));
  await writeFile(chainPath, pem(await readFile(join(dir, 'pki', 'intermediate-ca.der')), 'CERTIFICATE'));
  return [
    'credential-process',
    '--certificate', certificatePath,
    '--intermediates', chainPath,
    '--private-key', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=private?pin-value=${fixture.pin}`,
    '--pkcs11-lib', fixture.module,
    ...sessionFlags,
  ];
}


/** Both `serve`s on the same key and load, one after the other: req/s, p99, RSS. */
async function compareServe(
  context: BenchContext,
  reference: ReferenceHelper,
  identity: { keyPath: string; certificatePath: string },
  sessionFlags: readonly string[],
): Promise<{ figures: Figure[]; notes: string[] }> {
  let autocannon: Autocannon;
  try {
    autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  } catch (error) {
    return { figures: [], notes: [`serve rows skipped: autocannon is not installed: ${describeError(error)}`] };
  }
  const args = ['serve', '--certificate', identity.certificatePath, '--private-key', identity.keyPath, '--intermediates', context.pki.intermediatePath, ...sessionFlags];
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const [who, command, prefix] of [
    ['reference', reference.path, []],
    ['ours', process.execPath, [context.cliPath]],
  ] as const) {
    const port = await freeLoopbackPort();
    const serve = startBackground(command, [...prefix, ...args, '--port', String(port)], { env: isolatedEnv(), cleanup: context.cleanup });
    try {
      const base = `http://127.0.0.1:${port}`;
      const token = await waitForToken(base);
      const url = `${base}/latest/meta-data/iam/security-credentials/${ROLE_NAME}`;
      const check = await fetch(url, { headers: { 'x-aws-ec2-metadata-token': token }, signal: AbortSignal.timeout(5000) });
      // The body may hold a secret key: only its AccessKeyId's presence is looked at.
      const body = (await check.json()) as { AccessKeyId?: unknown };
      const empty = typeof body.AccessKeyId !== 'string' || body.AccessKeyId === '';
      if (empty) notes.push(`the ${who} serve answered ${check.status} with empty credentials (its CreateSession failed: ${firstLine(serve.stderr()).slice(0, 160)}); its rate is that of serving that answer`);
      const idle = residentMemory(serve.pid);
      context.progress(`reference: serve load on ${who}, ${SERVE_CONNECTIONS} connections, ${SERVE_WARMUP_S} s + ${SERVE_DURATION_S} s`);
      const result: AutocannonResult = await runAutocannon(autocannon, {
        url,
        connections: SERVE_CONNECTIONS,
        duration: SERVE_DURATION_S,
        warmup: { connections: SERVE_CONNECTIONS, duration: SERVE_WARMUP_S },
        headers: { 'x-aws-ec2-metadata-token': token },
        timeout: 10,
      });
      const loaded = residentMemory(serve.pid);
      figures.push({
        id: `reference.serve.${who}`,
        label: `${who === 'reference' ? `reference ${reference.version}` : '`roles-anywhere-signer`'} serve, GET .../security-credentials/<role>, ${SERVE_CONNECTIONS} connections, ${SERVE_DURATION_S} s`,
        result: `${formatNumber(result.requests.average)} req/s, p99 ${formatNumber(result.latency.p99)} ms`,
        note: [
          idle !== undefined && loaded !== undefined ? `RSS ${mib(idle.rssKiB)} MiB idle, ${mib(loaded.rssKiB)} MiB after, peak ${mib(loaded.peakKiB)} MiB` : undefined,
          `${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors`,
          empty ? 'empty credentials' : undefined,
        ].filter((part) => part !== undefined).join('; '),
        data: {
          requestsPerSecond: round3(result.requests.average),
          latencyP99Ms: result.latency.p99,
          latencyP50Ms: result.latency.p50,
          ok2xx: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          emptyCredentials: empty,
          ...(idle !== undefined && loaded !== undefined ? { idleRssKiB: idle.rssKiB, loadedRssKiB: loaded.rssKiB, peakRssKiB: loaded.peakKiB } : {}),
        },
      });
    } finally {
      await serve.stop();
    }
  }
  notes.push('serve: autocannon runs in the bench process, on the same 2 cores as the server: rates are floors; the two servers are loaded one after the other, not at once');
  return { figures, notes };
}

async function waitForToken(base: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const answer = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, signal: AbortSignal.timeout(1000) });
      if (answer.status === 200) return await answer.text();
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new SignerError('INTERNAL', `serve did not answer on ${base} within 10 s`);
}
