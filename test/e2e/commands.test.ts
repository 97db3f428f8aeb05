import t from 'tap';
import { createVerify, X509Certificate, constants } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { join } from 'node:path';
import { signingTestMessage } from '../../src/keys/sign-test-string.js';

let rig: Rig;
t.before(async () => {
  rig = await startRig();
});
t.teardown(async () => {
  await rig.close();
});

t.test('read-certificate-data prints the reference helper\'s JSON for a certificate file', async (t) => {
  for (const keyAlgorithm of ['EC-P384', 'RSA-2048'] as const) {
    const id = await rig.issueFileIdentity(`read-${keyAlgorithm}`, keyAlgorithm);
    const result = await runCli(['read-certificate-data', '--certificate', id.certificatePath]);
    t.equal(result.code, 0, result.stderr);
    const pem = readFileSync(id.certificatePath, 'utf8');
    const der = new X509Certificate(pem).raw;
    // openssl is the independent source of the serial number.
    const serialHex = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', id.certificatePath], { encoding: 'utf8' }).trim().replace(/^serial=/, '');
    const keyType = keyAlgorithm.startsWith('EC') ? 'EC' : 'RSA';
    t.equal(
      result.stdout,
      JSON.stringify({
        keyType,
        certificateData: der.toString('base64'),
        serialNumber: BigInt(`0x${serialHex}`).toString(10),
        supportedAlgorithms: [`${keyType}SHA256`, `${keyType}SHA384`, `${keyType}SHA512`],
      }),
    );
  }
});

t.test('sign-string signs the fixed test string; every format and digest verifies', async (t) => {
  for (const keyAlgorithm of ['EC-P256', 'RSA-2048'] as const) {
    const id = await rig.issueFileIdentity(`sign-${keyAlgorithm}`, keyAlgorithm);
    const certificate = new X509Certificate(readFileSync(id.certificatePath));
    const message = signingTestMessage(certificate.publicKey);
    for (const digest of ['SHA256', 'SHA384', 'SHA512'] as const) {
      const text = await runCli(['sign-string', '--private-key', id.keyPath, '--format', 'text', '--digest', digest]);
      t.equal(text.code, 0, text.stderr);
      t.match(text.stdout, /^[0-9a-f]+$/, 'text: bare lower-case hex, no newline');
      const verifier = createVerify(digest.replace('SHA', 'SHA-'));
      verifier.update(message);
      t.ok(verifier.verify({ key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(text.stdout, 'hex')), `${keyAlgorithm} ${digest} verifies`);
    }
    const json = await runCli(['sign-string', '--private-key', id.keyPath]);
    t.match(json.stdout, /^"[0-9a-f]+"$/, 'json (the default): a JSON string of the hex');
  }
  const bad = await runCli(['sign-string', '--private-key', '/nonexistent/key.pem', '--format', 'xml']);
  t.equal(bad.code, 2, "a bad choice is a usage error");
  t.match(bad.stderr, /argument 'xml' is invalid\. Allowed choices are json, text, bin\./);
});

t.test('version and help', async (t) => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const version = await runCli(['version']);
  t.equal(version.stdout, `${pkg.version}\n`);
  const help = await runCli(['credential-process', '--help']);
  t.equal(help.code, 0);
  for (const flag of ['--certificate', '--private-key', '--intermediates', '--trust-anchor-arn', '--profile-arn', '--role-arn', '--session-duration', '--region', '--endpoint', '--no-verify-ssl', '--with-proxy', '--debug', '--role-session-name', '--pkcs11-lib', '--reuse-pin', '--tpm-key-password', '--no-tpm-key-password', '--pkcs8-password', '--cert-selector', '--system-store-name', '--use-latest-expiring-certificate']) {
    t.match(help.stdout, flag, `credential-process --help lists ${flag}`);
  }
  const unsupported = await runCli(['credential-process', '--cert-selector', '{}', ...rig.sessionFlags]);
  t.equal(unsupported.stderr, 'roles-anywhere-signer: OS certificate stores (--cert-selector, --use-latest-expiring-certificate) are not supported yet: pass --certificate and --private-key (a file, pkcs11: URI or TPM key)\n');
  t.equal(unsupported.code, 1);
  const unknown = await runCli(['credential-proces']);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /unknown command 'credential-proces'/);
  t.match(unknown.stderr, /Did you mean credential-process\?/);
});

t.test('flag errors: one line, the right exit status', async (t) => {
  const cases: ReadonlyArray<readonly [string, readonly string[], number, string]> = [
    ['a duration that is no number', ['credential-process', '--session-duration', '1h', ...rig.sessionFlags], 2, '--session-duration "1h" is not a whole number of seconds (900 to 43200)'],
    ['the Windows store', ['credential-process', '--system-store-name', 'MY', ...rig.sessionFlags], 1, '--system-store-name applies to the Windows certificate store, which this tool does not support: pass --certificate and --private-key'],
    ['read-certificate-data without a certificate', ['read-certificate-data'], 2, '--certificate is required: a PEM/DER file or a pkcs11: URI'],
    ['read-certificate-data from an OS store', ['read-certificate-data', '--cert-selector', '{}'], 1, 'OS certificate stores are not supported yet: pass --certificate with a file or a pkcs11: URI'],
  ];
  for (const [what, args, code, message] of cases) {
    const result = await runCli(args);
    t.same({ code: result.code, stdout: result.stdout, stderr: result.stderr }, { code, stdout: '', stderr: `roles-anywhere-signer: ${message}\n` }, what);
  }
});

t.test('--debug adds the error code and its causes to the one line', async (t) => {
  const id = await rig.issueFileIdentity('debug-causes');
  const missing = join(rig.dir, 'missing-cert.pem');
  const result = await runCli(['credential-process', '--debug', '--certificate', missing, '--private-key', id.keyPath, ...rig.sessionFlags]);
  t.equal(result.code, 1);
  t.equal(result.stdout, '');
  const lines = result.stderr.trimEnd().split('\n');
  t.same(lines.slice(-3), [
    `roles-anywhere-signer: certificate file ${missing} does not exist: check the --certificate path`,
    'debug: error code CERT_NOT_FOUND',
    `debug: caused by Error: ENOENT: no such file or directory, open '${missing}'`,
  ]);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});
