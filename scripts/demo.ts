/**
 * `npm run demo`: the main job end to end on this machine, nothing from AWS needed.
 *
 *   1. a SoftHSM token with an EC P-256 key generated on it (the key never leaves the token),
 *      and a throwaway CA that certifies it;
 *   2. the embedded CreateSession emulator on 127.0.0.1, trusting that CA;
 *   3. `roles-anywhere-signer credential-process` with a pkcs11: URI;
 *   4. the real `aws` CLI calling `sts get-caller-identity` through `credential_process`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derToPem, startEmulator } from '../src/emulator/index.js';
import { isolatedEnv } from './isolated-env.js';
import { cliPath as cli, repoRoot } from './paths.js';

const REGION = 'us-east-1';
const ACCOUNT = '111122223333';
const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/0d3f4a52-demo-4000-8000-000000000001`;
const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/6a1c9f00-demo-4000-8000-000000000002`;
const roleArn = `arn:aws:iam::${ACCOUNT}:role/demo-role`;

interface Fixture {
  module: string;
  conf: string;
  tokenLabel: string;
  pin: string;
  rootCa: string;
}

function step(n: number, text: string): void {
  const line = `${n}. ${text}`;
  process.stdout.write(`\n${process.stdout.isTTY ? `\x1b[1m${line}\x1b[0m` : line}\n`);
}

function show(text: string): void {
  process.stdout.write(text.replace(/^/gm, '   ') + '\n');
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Shows credential_process JSON with the secret parts masked: a demo prints no secrets. */
function masked(json: string): string {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  for (const key of ['SecretAccessKey', 'SessionToken']) {
    const value = parsed[key];
    if (typeof value === 'string') parsed[key] = `<${value.length} characters, hidden>`;
  }
  return JSON.stringify(parsed, null, 2);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'roles-anywhere-demo-'));
  let stopEmulator: (() => Promise<void>) | undefined;
  try {
    step(1, 'A SoftHSM token with a P-256 key generated on it, certified by a throwaway CA');
    const token = join(work, 'token');
    const made = await run('bash', [join(repoRoot, 'scripts', 'fixtures', 'softhsm-token.sh'), token], { ...process.env, FIXTURE_KEYS: 'ec-p256', FIXTURE_TOKEN_LABEL: 'demo-token' });
    if (made.code !== 0) throw new Error(`could not build the SoftHSM token: ${made.stderr.trim()}`);
    const fixture = JSON.parse(await readFile(join(token, 'fixture.json'), 'utf8')) as Fixture;
    const keyUri = `pkcs11:token=${fixture.tokenLabel};object=ec-p256`;
    show(`module ${fixture.module}\ntoken  ${fixture.tokenLabel} (private directory ${token})\nkey    ${keyUri}`);

    step(2, 'The embedded IAM Roles Anywhere emulator on 127.0.0.1, trusting that CA');
    const rootPem = derToPem(await readFile(join(token, fixture.rootCa)));
    const emulator = await startEmulator(
      {
        region: REGION,
        accountId: ACCOUNT,
        trustAnchors: [{ arn: trustAnchorArn, certificates: [rootPem], enabled: true }],
        profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: true, enabled: true }],
      },
      { port: 0, host: '127.0.0.1' },
    );
    stopEmulator = () => emulator.close();
    show(`listening on ${emulator.url}\ntrust anchor ${trustAnchorArn}\nprofile      ${profileArn}\nrole         ${roleArn}`);

    const env = isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: fixture.pin });
    const signerArgs = [
      'credential-process',
      '--certificate', keyUri,
      '--pkcs11-lib', fixture.module,
      '--trust-anchor-arn', trustAnchorArn,
      '--profile-arn', profileArn,
      '--role-arn', roleArn,
      '--endpoint', emulator.url,
    ];

    step(3, 'roles-anywhere-signer credential-process (the PIN comes from ROLES_ANYWHERE_PIN)');
    show(`$ roles-anywhere-signer ${signerArgs.map((a) => (a.includes(';') ? `'${a}'` : a)).join(' ')}`);
    const signed = await run(process.execPath, [cli, ...signerArgs], env);
    if (signed.code !== 0) throw new Error(`credential-process failed: ${signed.stderr.trim()}`);
    show(masked(signed.stdout));

    step(4, 'The real aws CLI, with credential_process in a temporary AWS config');
    const config = join(work, 'aws-config');
    const processLine = [process.execPath, cli, ...signerArgs].map((a) => `"${a}"`).join(' ');
    await writeFile(config, `[profile demo]\nregion = ${REGION}\ncredential_process = ${processLine}\n`);
    show(`$ aws sts get-caller-identity --profile demo --endpoint-url ${emulator.url}`);
    const identity = await run('aws', ['sts', 'get-caller-identity', '--profile', 'demo', '--endpoint-url', emulator.url, '--output', 'json'], {
      ...env,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    });
    if (identity.code !== 0) throw new Error(`aws sts get-caller-identity failed: ${identity.stderr.trim()}`);
    show(identity.stdout.trim());
    process.stdout.write(`\nDone: the key never left the token; the emulator verified the SigV4-X509 signature, chain and certificate rules; STS accepted the issued credentials.\n`);
  } finally {
    await stopEmulator?.();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
