/**
 * `emulate --init` (run as the CLI) and the config the CLI builds from flags, through commander as the CLI
 * parses them, then a real CreateSession against the result.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import t, { type Test } from 'tap';
import { registerEmulateCommand } from '../../src/cli/emulate.js';
import { initEmulatorDirectory } from '../../src/emulator/init.js';
import { launchEmulator, parsePortFlag, resolveLaunchConfig } from '../../src/emulator/launch.js';
import { certificatesFromPem } from '../../src/emulator/config.js';
import { send, signTestRequest } from './x509-request.js';
import { runCli } from '../helpers/cli.js';

async function scratchDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'emulator-init-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('emulate --init writes keys 0600, a config that loads, and prints what to run next', async (t) => {
  const dir = join(await scratchDir(t), 'demo');
  const result = await runCli(['emulate', '--init', dir, '--region', 'eu-central-1']);
  t.equal(result.code, 0, result.stderr);
  const text = result.stdout;
  t.match(text, `Wrote a throwaway PKI and an emulator config to ${dir}:`);
  t.match(text, `roles-anywhere-signer emulate --config ${join(dir, 'emulator.json')} --port 0\n`, 'a free port, never a fixed one');
  t.match(text, 'then, in another shell, get credentials from it (ENDPOINT is that URL):\n');
  t.match(text, `--role-arn arn:aws:iam::123456789012:role/emulator-demo --endpoint "$ENDPOINT"\n`);
  t.match(text, `aws sts get-caller-identity --endpoint-url "$ENDPOINT" --region eu-central-1`);
  t.match(text, /--trust-anchor-arn arn:aws:rolesanywhere:eu-central-1:123456789012:trust-anchor\/[0-9a-f-]{36}/);
  for (const key of ['ca.key', 'client.key']) t.equal((await stat(join(dir, key))).mode & 0o777, 0o600, `${key} is 0600`);
  t.equal((await stat(dir)).mode & 0o777, 0o700, 'directory is 0700');
  const config = JSON.parse(await readFile(join(dir, 'emulator.json'), 'utf8')) as { region: string; trustAnchors: Array<{ certificates: string[] }> };
  t.equal(config.region, 'eu-central-1');
  t.same(config.trustAnchors[0]?.certificates, ['ca.pem']);
  t.equal(resolveLaunchConfig({ configPath: join(dir, 'emulator.json') }).trustAnchors.size, 1);
});

t.test('--init refuses to overwrite and leaves the directory as it was', async (t) => {
  const dir = await scratchDir(t);
  await writeFile(join(dir, 'client.key'), 'mine');
  await t.rejects(initEmulatorDirectory(dir), {
    code: 'USAGE',
    message: `${join(dir, 'client.key')} already exists; emulate --init never overwrites files: pick an empty directory`,
  });
  t.equal(await readFile(join(dir, 'client.key'), 'utf8'), 'mine');
  await t.rejects(stat(join(dir, 'ca.pem')), { code: 'ENOENT' }, 'nothing else written');
});

t.test('the initialised directory works end to end: CreateSession accepted', async (t) => {
  const dir = await scratchDir(t);
  const init = await initEmulatorDirectory(dir, { keyAlgorithm: 'RSA-2048' });
  const emulator = await launchEmulator({ configPath: init.files.config, port: 0 });
  t.teardown(() => emulator.close());
  const certificateDer = certificatesFromPem(await readFile(init.files.clientCertificate, 'utf8'))[0];
  if (certificateDer === undefined) throw new Error('no client certificate');
  const response = await send(
    signTestRequest({
      url: emulator.url,
      region: 'us-east-1',
      privateKey: await readFile(init.files.clientKey, 'utf8'),
      keyType: 'RSA',
      certificateDer,
      query: { profileArn: init.profileArn, roleArn: init.roleArn, trustAnchorArn: init.trustAnchorArn },
      body: '{"durationSeconds":3600}',
      signingDate: new Date(),
    }),
  );
  t.equal(response.status, 201, JSON.stringify(response.json));
});

t.test('without --config: a default config around --trust-anchor-cert; --region overrides', async (t) => {
  const dir = await scratchDir(t);
  const init = await initEmulatorDirectory(dir);
  const config = resolveLaunchConfig({ trustAnchorCertificatePaths: [init.files.caCertificate], region: 'ap-south-1' });
  t.same([...config.trustAnchors.keys()], ['arn:aws:rolesanywhere:ap-south-1:123456789012:trust-anchor/emulator']);
  t.same([...config.profiles.keys()], ['arn:aws:rolesanywhere:ap-south-1:123456789012:profile/emulator']);
  t.throws(() => resolveLaunchConfig({}), {
    code: 'USAGE',
    message: 'emulate needs --config FILE or at least one --trust-anchor-cert PEM (emulate --init DIR writes a starter config)',
  });
  // With a config, extra certificates join its first trust anchor.
  const other = await initEmulatorDirectory(join(dir, 'other'));
  const merged = resolveLaunchConfig({ configPath: init.files.config, trustAnchorCertificatePaths: [other.files.caCertificate] });
  t.equal(merged.trustAnchors.get(init.trustAnchorArn)?.certificates.length, 2);
});

t.test('--trust-anchor-cert: DER files load; a missing file or a config without anchors is named', async (t) => {
  const dir = await scratchDir(t);
  const init = await initEmulatorDirectory(dir);
  const [caDer] = certificatesFromPem(await readFile(init.files.caCertificate, 'utf8'));
  if (caDer === undefined) throw new Error('no CA certificate');
  const derPath = join(dir, 'ca.der');
  await writeFile(derPath, caDer);
  const config = resolveLaunchConfig({ trustAnchorCertificatePaths: [derPath] });
  t.same(config.trustAnchors.get('arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/emulator')?.certificates, [caDer]);

  const missing = join(dir, 'missing.pem');
  t.throws(() => resolveLaunchConfig({ trustAnchorCertificatePaths: [missing] }), {
    code: 'CERT_NOT_FOUND',
    message: `cannot read trust anchor certificate ${missing} (ENOENT); check the path`,
  });

  const anchorless = join(dir, 'anchorless.json');
  await writeFile(anchorless, JSON.stringify({ region: 'us-east-1', accountId: '123456789012', trustAnchors: [], profiles: [] }));
  t.throws(() => resolveLaunchConfig({ configPath: anchorless, trustAnchorCertificatePaths: [derPath] }), {
    code: 'EMULATOR_CONFIG_INVALID',
    message: 'emulator config trustAnchors: --trust-anchor-cert adds to the first trust anchor, and the config has none',
  });
});

t.test('--port must be a port number', async (t) => {
  t.equal(parsePortFlag('0'), 0);
  t.equal(parsePortFlag('9910'), 9910);
  t.equal(parsePortFlag(undefined), undefined);
  t.throws(() => parsePortFlag('70000'), { code: 'USAGE', message: '--port 70000 is not a port number; use 0..65535 (0 picks a free port)' });
  t.throws(() => parsePortFlag('http'), { code: 'USAGE', message: '--port http is not a port number; use 0..65535 (0 picks a free port)' });
});

t.test('a port already in use gives SERVE_BIND_FAILED', async (t) => {
  const dir = await scratchDir(t);
  const init = await initEmulatorDirectory(dir);
  const first = await launchEmulator({ configPath: init.files.config });
  t.teardown(() => first.close());
  await t.rejects(launchEmulator({ configPath: init.files.config, port: first.port }), {
    code: 'SERVE_BIND_FAILED',
    message: `emulator cannot listen on 127.0.0.1:${first.port} (EADDRINUSE); pick another --port or --host`,
  });
});

t.test('emulate --config prints the URL alone on stdout and stops on SIGTERM', async (t) => {
  const dir = await scratchDir(t);
  const init = await initEmulatorDirectory(dir);
  const program = new Command().exitOverride();
  registerEmulateCommand(program);
  const output: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  let printed: () => void = () => undefined;
  const urlPrinted = new Promise<void>((resolve) => {
    printed = resolve;
  });
  process.stdout.write = ((chunk: string | Uint8Array, callback?: (error?: Error) => void) => {
    output.push(chunk.toString());
    callback?.();
    printed();
    return true;
  }) as typeof process.stdout.write;
  let running: Promise<unknown>;
  try {
    running = program.parseAsync(['node', 'cli', 'emulate', '--config', init.files.config, '--port', '0', '--quiet']);
    await urlPrinted;
  } finally {
    process.stdout.write = write;
  }
  const url = output.join('').trim();
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${url}/sessions`, { method: 'POST' });
  t.equal(response.status, 403, 'the emulator answers at the printed URL');
  t.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  process.emit('SIGTERM');
  await running;
  await t.rejects(fetch(`${url}/sessions`, { method: 'POST' }), { name: 'TypeError', message: 'fetch failed' }, 'closed after SIGTERM');
});
