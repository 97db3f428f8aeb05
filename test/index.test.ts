import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { run } from './helpers/cli.js';
import * as api from '../src/index.js';
import type { RolesAnywhereProviderOptions } from '../src/index.js';
import * as emulatorApi from '../src/emulator.js';
import type { CreateCertificateAuthorityOptions, GeneratedKeyPair, IssueLeafCertificateOptions } from '../src/emulator.js';
import { buildRoot, repoRoot } from './helpers/paths.js';

/** Every `import { ... } from '<specifier>'` in the user documentation. */
function documentedImports(specifier: string): Map<string, string> {
  const files = [...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name)), 'README.md'];
  const names = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
      if (match[2] !== specifier) continue;
      for (const name of (match[1] ?? '').split(',').map((part) => part.trim().replace(/^type\s+/, '')).filter((part) => part !== '')) {
        names.set(name, file);
      }
    }
  }
  return names;
}

t.test('every name the documentation imports from the package is exported by it', async (t) => {
  const names = documentedImports('roles-anywhere-signer');
  t.ok(names.has('fromRolesAnywhere'), 'the docs were found and read');
  for (const [name, file] of names) t.ok(name in api, `${name} (imported in ${file}) is exported`);
  const emulatorNames = documentedImports('roles-anywhere-signer/emulator');
  t.ok(emulatorNames.has('startEmulator'), 'the emulator guide imports from the emulator entry');
  for (const [name, file] of emulatorNames) t.ok(name in emulatorApi, `${name} (imported from roles-anywhere-signer/emulator in ${file}) is exported there`);
});

t.test('the main entry loads no emulator and leaves Reflect alone', async (t) => {
  // A fresh process: this test file itself has loaded the emulator already.
  const probe = [
    `await import(${JSON.stringify(join(buildRoot, 'src', 'index.js'))});`,
    `const { createRequire } = await import('node:module');`,
    `const loaded = Object.keys(createRequire(import.meta.url).cache);`,
    // The emulator's PKI is the one user of @peculiar/x509 and tsyringe (both CommonJS, so visible here).
    `console.log(JSON.stringify({ getMetadata: typeof Reflect.getMetadata, emulatorOnly: loaded.filter((path) => /node_modules\\/(@peculiar\\/x509|tsyringe)\\//.test(path)) }));`,
  ].join('\n');
  const result = await run(process.execPath, ['--input-type=module', '-e', probe]);
  t.equal(result.stderr, '');
  t.same(JSON.parse(result.stdout), { getMetadata: 'undefined', emulatorOnly: [] });
});

t.test('the emulator.md library example works through the package entry points, with fromRolesAnywhere', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ras-index-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const caOptions: CreateCertificateAuthorityOptions = { subject: 'CN=Test CA', keyAlgorithm: 'EC-P256' };
  const ca = await emulatorApi.createCertificateAuthority(caOptions);
  const key: GeneratedKeyPair = emulatorApi.generateKeyPair('EC-P256');
  const leafOptions: IssueLeafCertificateOptions = { issuer: ca, subject: 'CN=workload', publicKey: key.publicKey };
  const leaf = await emulatorApi.issueLeafCertificate(leafOptions);
  const emulator = await emulatorApi.startEmulator(
    {
      region: 'us-east-1',
      accountId: '123456789012',
      trustAnchors: [{ arn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t', certificates: [ca.certificatePem] }],
      profiles: [{ arn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p', roleArns: ['arn:aws:iam::123456789012:role/r'] }],
    },
    { port: 0 },
  );
  t.teardown(() => emulator.close());

  const certificate = join(dir, 'leaf.pem');
  const privateKey = join(dir, 'leaf.key');
  await writeFile(certificate, leaf.certificatePem);
  await writeFile(privateKey, key.privateKeyPem, { mode: 0o600 });
  const options: RolesAnywhereProviderOptions = {
    certificate,
    privateKey,
    trustAnchorArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t',
    profileArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    endpoint: emulator.url,
  };
  const credentials = api.fromRolesAnywhere(options);
  t.teardown(() => credentials.close());
  const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials });
  t.teardown(() => sts.destroy());
  const caller = await sts.send(new GetCallerIdentityCommand({}));
  t.equal(caller.Account, '123456789012');
  t.same(emulator.stats, { createSession: 1, getCallerIdentity: 1 });
});
