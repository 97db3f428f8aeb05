import fc from 'fast-check';
import { parsePkcs11Uri } from '../../src/keys/pkcs11/uri.js';
import { parsePemBlocks } from '../../src/certs/pem.js';
import { readDerChildren, readWholeDerElement } from '../../src/asn1/der.js';
import { describeCertificate, parseCertificates } from '../../src/certs/load.js';
import { parseTss2KeyFile } from '../../src/keys/tpm/keyfile.js';
import { readPkcs12 } from '../../src/keys/file/pkcs12.js';
import { readKeyMaterial } from '../../src/keys/file/read.js';
import { parseCreateSessionAnswer } from '../../src/rolesanywhere/answer.js';
import { createImdsHandler } from '../../src/serve/imds.js';
import { createContainerHandler } from '../../src/serve/container.js';
import { createTokenStore } from '../../src/serve/token-store.js';
import { createAuthorizationCheck, fixedTokenDigest } from '../../src/serve/authorization.js';
import type { CredentialsSnapshot } from '../../src/credentials/refresher.js';
import type { ServeRequest } from '../../src/serve/types.js';

/**
 * The parsers and handlers that meet hostile input, each as a fuzz target: an input generator
 * (random bytes and text, plus mutations of a valid seed, which reach far deeper than noise)
 * and a call that may fail only with the project's SignerError. Shared by the suite's short
 * seeded run (test/fuzz/parsers.test.ts) and `npm run fuzz`.
 */
export interface FuzzSeeds {
  readonly certificateDer: Uint8Array;
  readonly certificatePem: string;
  readonly pkcs8Pem: string;
  readonly encryptedPkcs8Der: Uint8Array;
  readonly pkcs12: Uint8Array;
  readonly tss2Der: Uint8Array;
}

export interface FuzzTarget<T> {
  readonly name: string;
  readonly input: fc.Arbitrary<T>;
  /** What is checked besides "only SignerError escapes"; returns a complaint or undefined. */
  readonly run: (input: T) => Promise<string | undefined> | string | undefined;
}

/** Byte-level mutations of a valid input: flips, cuts, insertions, duplicated slices. */
export function mutationsOf(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  const length = seed.length;
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(length - 1), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(length) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(length), bytes: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(length), size: fc.integer({ min: 1, max: 64 }) }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((steps) => {
    let bytes = Buffer.from(seed);
    for (const step of steps) {
      const at = Math.min(step.at, bytes.length);
      if (step.kind === 'flip' && bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = step.value;
      else if (step.kind === 'cut') bytes = bytes.subarray(0, at);
      else if (step.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), step.bytes, bytes.subarray(at)]);
      else if (step.kind === 'repeat') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + step.size), bytes.subarray(at)]);
    }
    return new Uint8Array(bytes);
  });
}

const bytesOrMutation = (seed: Uint8Array) => fc.oneof({ weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) }, { weight: 4, arbitrary: mutationsOf(seed) });
const textOrMutation = (seed: string) => bytesOrMutation(Buffer.from(seed, 'latin1')).map((bytes) => Buffer.from(bytes).toString('latin1'));

const uriAttribute = fc.oneof(
  fc.constantFrom('token', 'object', 'id', 'type', 'serial', 'manufacturer', 'model', 'library-description', 'slot-id', 'slot-description', 'pin-value', 'pin-source', 'module-name', 'module-path', 'x-vendor'),
  fc.string({ maxLength: 12 }),
);
const uriValue = fc.oneof(fc.string({ maxLength: 24 }), fc.constantFrom('%', '%4', '%zz', '%00', 'cert', 'private', '01', '%01%02', 'a;b', 'a?b', '/dev/null'));
const pkcs11UriText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.tuple(
    fc.array(fc.tuple(uriAttribute, uriValue), { maxLength: 6 }),
    fc.array(fc.tuple(uriAttribute, uriValue), { maxLength: 3 }),
    fc.constantFrom('pkcs11:', 'PKCS11:', 'pkcs11://', 'pkcs11'),
  ).map(([path, query, scheme]) => `${scheme}${path.map(([k, v]) => `${k}=${v}`).join(';')}${query.length > 0 ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`),
);

const answerCredentials = fc.record(
  {
    accessKeyId: fc.oneof(fc.constant('ASIAEXAMPLEEXAMPLE00'), fc.string({ maxLength: 30 }), fc.anything()),
    secretAccessKey: fc.oneof(fc.constant('c2VjcmV0c2VjcmV0c2VjcmV0'), fc.string({ maxLength: 30 }), fc.anything()),
    sessionToken: fc.oneof(fc.constant('dG9rZW4tdG9rZW4tdG9rZW4='), fc.string({ maxLength: 30 }), fc.anything()),
    expiration: fc.oneof(fc.constantFrom('2026-01-01T01:00:00Z', '2026-01-01T00:04:59Z', '2026-01-01T01:00:00.5+00:00'), fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())), fc.string({ maxLength: 30 }), fc.anything()),
  },
  { requiredKeys: [] },
);
const createSessionBody = fc.oneof(
  answerCredentials.map((credentials) => JSON.stringify({ credentialSet: [{ credentials }] })),
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.record({ credentialSet: fc.oneof(fc.array(fc.record({ credentials: answerCredentials }, { requiredKeys: [] }), { maxLength: 2 }), fc.anything()) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
);

const headerName = fc.oneof(fc.constantFrom('x-aws-ec2-metadata-token', 'x-aws-ec2-metadata-token-ttl-seconds', 'x-forwarded-for', 'authorization', 'host'), fc.string({ maxLength: 10 }));
const headerValue = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('0', '1', '21600', '21601', '-1', '1e3', ' 60', ''), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }));
const serveRequest: fc.Arbitrary<ServeRequest> = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'get'), fc.string({ maxLength: 8 })),
  url: fc.oneof(
    fc.constantFrom('/latest/api/token', '/latest/meta-data/iam/security-credentials/', '/latest/meta-data/iam/security-credentials/app-role', '/latest/meta-data/iam/security-credentials-extended/app-role', '/v1/credentials', '/v1/credentials?x=1', '/', '//', '/latest/meta-data/iam/security-credentials/../'),
    fc.string({ maxLength: 80 }),
    fc.webPath(),
  ),
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 5 }),
});

/** Credentials served by the fuzzed endpoints: none of these may leak on a refused request. */
const SERVED: CredentialsSnapshot = {
  credentials: { accessKeyId: 'ASIAFUZZFUZZFUZZFUZZ', secretAccessKey: 'fuzz-secret-access-key', sessionToken: 'fuzz-session-token', expiration: new Date('2030-01-01T01:00:00Z') },
  obtainedAt: new Date('2030-01-01T00:00:00Z'),
};
const CONTAINER_TOKEN = 'fuzz-container-authorization-token';

function leaksSecret(status: number, body: string): string | undefined {
  if (status === 200) return undefined;
  return body.includes(SERVED.credentials.secretAccessKey) || body.includes(SERVED.credentials.sessionToken) ? `a ${status} answer carries the credentials` : undefined;
}

export function fuzzTargets(seeds: FuzzSeeds): ReadonlyArray<FuzzTarget<never>> {
  const clock = () => new Date('2030-01-01T00:10:00Z');
  const tokens = createTokenStore({ now: () => clock().getTime() });
  const imds = createImdsHandler({ tokens, credentials: async () => SERVED, roleName: 'app-role', accountId: '123456789012' });
  const container = createContainerHandler({ path: '/v1/credentials', authorize: createAuthorizationCheck(fixedTokenDigest(Buffer.from(CONTAINER_TOKEN))), credentials: async () => SERVED, roleArn: 'arn:aws:iam::123456789012:role/app-role', accountId: '123456789012' });
  const password = async () => Buffer.from('fuzz-password');
  const targets: Array<FuzzTarget<any>> = [
    { name: 'pkcs11: URIs', input: pkcs11UriText, run: (text: string) => void parsePkcs11Uri(text) },
    { name: 'PEM text', input: textOrMutation(seeds.certificatePem), run: (text: string) => void parsePemBlocks(text, { source: 'fuzz input', errorCode: 'CERT_INVALID' }) },
    {
      name: 'DER',
      input: bytesOrMutation(seeds.certificateDer),
      run: (bytes: Uint8Array) => {
        const element = readWholeDerElement(bytes);
        if (element.tag & 0x20) readDerChildren(element);
        return undefined;
      },
    },
    {
      name: 'certificates (PEM or DER)',
      input: fc.oneof(bytesOrMutation(seeds.certificateDer), textOrMutation(seeds.certificatePem).map((text) => new Uint8Array(Buffer.from(text, 'latin1')))),
      run: (bytes: Uint8Array) => {
        for (const der of parseCertificates(bytes, 'fuzz certificate')) describeCertificate(der);
        return undefined;
      },
    },
    { name: 'TSS2 key files', input: fc.oneof(bytesOrMutation(seeds.tss2Der), bytesOrMutation(Buffer.from(`-----BEGIN TSS2 PRIVATE KEY-----\n${Buffer.from(seeds.tss2Der).toString('base64')}\n-----END TSS2 PRIVATE KEY-----\n`))), run: (bytes: Uint8Array) => void parseTss2KeyFile(bytes, 'fuzz.tss2') },
    { name: 'PKCS#12', input: bytesOrMutation(seeds.pkcs12), run: async (bytes: Uint8Array) => void (await readPkcs12(bytes, { path: 'fuzz.p12' })) },
    {
      name: 'key files',
      input: fc.oneof(bytesOrMutation(Buffer.from(seeds.pkcs8Pem)), bytesOrMutation(seeds.encryptedPkcs8Der)),
      run: async (bytes: Uint8Array) => void (await readKeyMaterial(bytes, { path: 'fuzz.key', readPassword: password })),
    },
    {
      name: 'CreateSession answers',
      input: createSessionBody,
      run: (body: string) => {
        const credentials = parseCreateSessionAnswer(body, { target: 'https://fuzz/sessions', now: new Date('2026-01-01T00:00:00Z') });
        const values = [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken];
        return values.every((value) => /^[\x21-\x7e]+$/.test(value)) ? undefined : 'accepted a credential value that is not printable ASCII';
      },
    },
    {
      name: 'IMDS requests',
      input: serveRequest,
      run: async (request: ServeRequest) => {
        const response = await imds(request);
        if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) return `status ${response.status}`;
        return leaksSecret(response.status, String(response.body));
      },
    },
    {
      name: 'container requests',
      input: serveRequest,
      run: async (request: ServeRequest) => {
        const response = await container(request);
        if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) return `status ${response.status}`;
        if (response.status === 200 && request.headers['authorization'] !== CONTAINER_TOKEN) return 'served without the token';
        return leaksSecret(response.status, String(response.body));
      },
    },
  ];
  return targets as unknown as ReadonlyArray<FuzzTarget<never>>;
}
