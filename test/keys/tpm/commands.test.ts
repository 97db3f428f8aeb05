import { verify } from 'node:crypto';
import t from 'tap';
import { ecdsaIntegersToDer } from '../../../src/keys/ecdsa-signature.js';
import {
  createCommand,
  createPrimaryCommand,
  evictControlCommand,
  flushContextCommand,
  getCapabilityCommand,
  loadCommand,
  readPublicCommand,
  signCommand,
  startupCommand,
} from '../../../src/keys/tpm/commands.js';
import { TPMA_OBJECT, TPM_ALG, TPM_CAP, TPM_RH } from '../../../src/keys/tpm/constants.js';
import { buildCommand, parseResponseBody } from '../../../src/keys/tpm/marshal.js';
import { publicKeyOf } from '../../../src/keys/tpm/public-area.js';
import { ECC_P256_STORAGE_PRIMARY, RSA_2048_STORAGE_PRIMARY, eccSigningKeyTemplate, rsaSigningKeyTemplate } from '../../../src/keys/tpm/templates.js';
import {
  sha256OfAbcHex,
  tpm2ToolsCreatePrimaryEccStorageParametersHex,
  tpm2ToolsFlushContextCommandHex,
  tpm2ToolsGetCapabilityTransientCommandHex,
  tpm2ToolsGetCapabilityTransientResponseHex,
  tpm2ToolsReadPublicEcResponseHex,
  tpm2ToolsSignEcCommandHex,
  tpm2ToolsSignEcResponseHex,
} from './vectors.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');
const EMPTY = new Uint8Array(0);

/** A response with a correct size field: tag, size, rc 0, then `rest` (hex). */
function response(tag: '8001' | '8002', rest: string): Buffer {
  const body = hex(rest);
  const header = Buffer.alloc(10);
  header.writeUInt16BE(Number.parseInt(tag, 16), 0);
  header.writeUInt32BE(10 + body.length, 2);
  return Buffer.concat([header, body]);
}

function sized16(value: string): string {
  return (value.length / 2).toString(16).padStart(4, '0') + value;
}

function sized32(value: string): string {
  return (value.length / 2).toString(16).padStart(8, '0') + value;
}

t.test('TPM2_Startup(CLEAR) and TPM2_FlushContext match the spec and tpm2-tools bytes', async (t) => {
  t.equal(buildCommand(startupCommand().frame).toString('hex'), '80010000000c000001440000');
  t.equal(buildCommand(flushContextCommand(0x80000000).frame).toString('hex'), tpm2ToolsFlushContextCommandHex);
});

t.test('TPM2_CreatePrimary sends the standard ECC P-256 storage template, as tpm2_createprimary does', async (t) => {
  const command = createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: EMPTY, template: ECC_P256_STORAGE_PRIMARY });
  t.equal(command.frame.commandCode, 0x131);
  t.same(command.frame.handles, [TPM_RH.OWNER]);
  t.equal(Buffer.from(command.frame.parameters).toString('hex'), tpm2ToolsCreatePrimaryEccStorageParametersHex);
  t.equal(
    ECC_P256_STORAGE_PRIMARY.objectAttributes,
    0x00030472,
    'fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|noDA|restricted|decrypt',
  );
});

t.test('the RSA 2048 storage template: same attributes, 2048 bits, default exponent, empty unique', async (t) => {
  const command = createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: EMPTY, template: RSA_2048_STORAGE_PRIMARY });
  t.equal(
    Buffer.from(command.frame.parameters).toString('hex'),
    '000400000000' + '001a' + '0001000b00030472' + '0000' + '000600800043' + '0010' + '0800' + '00000000' + '0000' + '0000' + '00000000',
  );
});

t.test('TPM2_CreatePrimary response: handle, outPublic and name', async (t) => {
  const outPublic = '0023000b0003047200000006008000430010000300100020' + '11'.repeat(32) + '0020' + '22'.repeat(32);
  const parameters = sized16(outPublic) + '0000' + '0000' + '8021' + '40000001' + '0000' + sized16('000b' + '33'.repeat(32));
  const command = createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: EMPTY, template: ECC_P256_STORAGE_PRIMARY });
  const created = command.decode(parseResponseBody(response('8002', '80000000' + sized32(parameters) + '0000' + '01' + '0000'), command.responseHandles, 'r'));
  t.equal(created.handle, 0x80000000);
  t.equal(created.name.toString('hex'), '000b' + '33'.repeat(32));
  t.equal(created.publicArea.type, TPM_ALG.ECC);
  t.equal(created.publicArea.objectAttributes & TPMA_OBJECT.restricted, TPMA_OBJECT.restricted);
});

t.test('TPM2_Load carries the key file blobs as they are', async (t) => {
  const command = loadCommand({ parentHandle: 0x80000000, parentAuth: EMPTY, inPrivate: hex('0002aaaa'), inPublic: hex('0001bb') });
  t.equal(
    buildCommand(command.frame).toString('hex'),
    '8002' + '00000022' + '00000157' + '80000000' + '00000009' + '40000009' + '0000' + '00' + '0000' + '0002aaaa' + '0001bb',
  );
  const answer = response('8002', '80000001' + sized32('0004000bcafe') + '0000' + '00' + '0000');
  t.same(command.decode(parseResponseBody(answer, 1, 'r')), { handle: 0x80000001, name: hex('000bcafe') });
});

t.test('TPM2_Sign: the command tpm2-tools sent, and a recorded response that verifies', async (t) => {
  const digest = hex(sha256OfAbcHex);
  const command = signCommand({ keyHandle: 0x80000000, keyAuth: Buffer.from('pw1'), digest, scheme: TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA256 });
  // tpm2-tools used an HMAC session; the parameter area after it is what must match.
  const recorded = hex(tpm2ToolsSignEcCommandHex);
  t.equal(Buffer.from(command.frame.parameters).toString('hex'), recorded.subarray(recorded.length - command.frame.parameters.length).toString('hex'));
  t.equal(recorded.readUInt32BE(10), 0x80000000, 'same key handle');

  const signature = command.decode(parseResponseBody(hex(tpm2ToolsSignEcResponseHex), 0, 'r'));
  if (signature.sigAlg !== TPM_ALG.ECDSA) throw new Error('expected ECDSA');
  t.equal(signature.hashAlg, TPM_ALG.SHA256);
  t.equal(signature.r.length, 32);
  t.equal(signature.s.length, 32);

  const readPublic = readPublicCommand(0x80000000);
  const { publicArea, name } = readPublic.decode(parseResponseBody(hex(tpm2ToolsReadPublicEcResponseHex), 0, 'r'));
  t.equal(name.length, 34, 'SHA-256 name');
  const publicKey = publicKeyOf(publicArea, 'recorded key');
  t.equal(publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const der = ecdsaIntegersToDer(signature.r, signature.s);
  t.ok(verify('sha256', Buffer.from('abc'), { key: publicKey, dsaEncoding: 'der' }, der), 'the recorded signature verifies over "abc" with the recorded public key');
  t.notOk(verify('sha256', Buffer.from('abd'), { key: publicKey, dsaEncoding: 'der' }, der), 'and not over another message');
});

t.test('TPM2_Sign response with an RSASSA signature, and one of another scheme', async (t) => {
  const command = signCommand({ keyHandle: 0x80000001, keyAuth: EMPTY, digest: hex('00'.repeat(32)), scheme: TPM_ALG.RSASSA, hashAlg: TPM_ALG.SHA256 });
  const rsa = command.decode(parseResponseBody(response('8001', '0014000b' + '0004' + 'a1b2c3d4'), 0, 'the TPM2_Sign response'));
  t.same(rsa, { sigAlg: TPM_ALG.RSASSA, hashAlg: TPM_ALG.SHA256, signature: hex('a1b2c3d4') });
  t.throws(() => command.decode(parseResponseBody(response('8001', '0016000b' + '0004' + 'a1b2c3d4'), 0, 'the TPM2_Sign response')), {
    code: 'TPM_TRANSPORT_FAILED',
    message: 'the TPM2_Sign response carries a signature of algorithm 0x16, not the ECDSA or RSASSA that was asked for',
  });
});

t.test('TPM2_GetCapability(handles) as tpm2_getcap sends it, and its recorded answer', async (t) => {
  const command = getCapabilityCommand({ capability: TPM_CAP.HANDLES, property: 0x80000000, propertyCount: 254 });
  t.equal(buildCommand(command.frame).toString('hex'), tpm2ToolsGetCapabilityTransientCommandHex);
  t.same(command.decode(parseResponseBody(hex(tpm2ToolsGetCapabilityTransientResponseHex), 0, 'r')), {
    moreData: false,
    data: { capability: TPM_CAP.HANDLES, handles: [0x80000000] },
  });
});

t.test('TPM2_GetCapability: other capabilities, and corrupt counts', async (t) => {
  const properties = getCapabilityCommand({ capability: TPM_CAP.TPM_PROPERTIES, property: 0x20e, propertyCount: 1 });
  t.same(properties.decode(parseResponseBody(response('8001', '01' + '00000006' + '00000001' + '0000020e' + '00000003'), 0, 'r')), {
    moreData: true,
    data: { capability: TPM_CAP.TPM_PROPERTIES, properties: [{ property: 0x20e, value: 3 }] },
  });
  const curves = getCapabilityCommand({ capability: TPM_CAP.ECC_CURVES, property: 0, propertyCount: 8 });
  t.same(curves.decode(parseResponseBody(response('8001', '00' + '00000008' + '00000002' + '0003' + '0004'), 0, 'r')).data, {
    capability: TPM_CAP.ECC_CURVES,
    curves: [3, 4],
  });
  const algorithms = getCapabilityCommand({ capability: TPM_CAP.ALGS, property: 0, propertyCount: 1 });
  t.same(algorithms.decode(parseResponseBody(response('8001', '00' + '00000000' + '00000001' + '000b' + '00000004'), 0, 'r')).data, {
    capability: TPM_CAP.ALGS,
    algorithms: [{ alg: TPM_ALG.SHA256, attributes: 4 }],
  });
  t.throws(
    () => properties.decode(parseResponseBody(response('8001', '00' + '00000001' + 'ffffffff'), 0, 'the TPM2_GetCapability response')),
    { code: 'TPM_TRANSPORT_FAILED', message: 'the TPM2_GetCapability response claims 4294967295 entries in 0 bytes' },
  );
  t.throws(
    () => properties.decode(parseResponseBody(response('8001', '00' + '00000005' + '00000000'), 0, 'the TPM2_GetCapability response')),
    { code: 'TPM_TRANSPORT_FAILED', message: 'the TPM2_GetCapability response answers capability 0x5, which was not asked for' },
  );
});

t.test('the signing key templates of enroll: fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign, no symmetric, NULL schemes', async (t) => {
  const ec = createCommand({ parentHandle: 0x80000000, parentAuth: EMPTY, userAuth: EMPTY, template: eccSigningKeyTemplate(0x0004) });
  // TPMT_PUBLIC: ECC, SHA-256, attributes 0x00040072, empty policy, sym NULL, scheme NULL, P-384, kdf NULL, empty x and y.
  const ecPublic = '0023' + '000b' + '00040072' + '0000' + '0010' + '0010' + '0004' + '0010' + '0000' + '0000';
  t.equal(Buffer.from(ec.frame.parameters).toString('hex'), '0004' + '0000' + '0000' + sized16(ecPublic) + '0000' + '00000000');
  const rsa = createCommand({ parentHandle: 0x80000000, parentAuth: EMPTY, userAuth: EMPTY, template: rsaSigningKeyTemplate(3072) });
  const rsaPublic = '0001' + '000b' + '00040072' + '0000' + '0010' + '0010' + '0c00' + '00000000' + '0000';
  t.equal(Buffer.from(rsa.frame.parameters).toString('hex'), '000400000000' + sized16(rsaPublic) + '0000' + '00000000');
  t.equal(eccSigningKeyTemplate(0x0003).objectAttributes, TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth | TPMA_OBJECT.sign);
  t.equal(eccSigningKeyTemplate(0x0003).objectAttributes & (TPMA_OBJECT.decrypt | TPMA_OBJECT.restricted | TPMA_OBJECT.noDA), 0, 'not decrypt, not restricted, and wrong passwords count toward lockout');
});

t.test('TPM2_Create: the new key\'s password in TPM2B_SENSITIVE_CREATE, the parent\'s in the session; the response keeps the blobs with their sizes', async (t) => {
  const command = createCommand({ parentHandle: 0x80000001, parentAuth: EMPTY, userAuth: Buffer.from('pw1'), template: eccSigningKeyTemplate(0x0003) });
  t.equal(command.name, 'TPM2_Create');
  const ecPublic = '0023000b000400720000001000100003001000000000';
  const parameters = sized16('0003707731' + '0000') + sized16(ecPublic) + '0000' + '00000000';
  const bytes = buildCommand(command.frame).toString('hex');
  t.equal(bytes, '8002' + (10 + 4 + 4 + 9 + parameters.length / 2).toString(16).padStart(8, '0') + '00000153' + '80000001' + '00000009' + '40000009' + '0000' + '00' + '0000' + parameters);

  const outPublic = '0023000b00040072000000100010000300100020' + '11'.repeat(32) + '0020' + '22'.repeat(32);
  const outPrivate = 'ab'.repeat(20);
  const body = sized16(outPrivate) + sized16(outPublic) + sized16('00') + sized16('000b') + '8021' + '40000001' + '0000';
  const created = command.decode(parseResponseBody(response('8002', sized32(body) + '0000' + '01' + '0000'), 0, 'r'));
  t.equal(created.privateBlob.toString('hex'), sized16(outPrivate), 'TPM2B_PRIVATE with its size, as a key file stores it');
  t.equal(created.publicBlob.toString('hex'), sized16(outPublic));
  t.equal(created.publicArea.type, TPM_ALG.ECC);
  t.throws(() => command.decode(parseResponseBody(response('8001', body + '00'), 0, 'the TPM2_Create response')), {
    code: 'TPM_TRANSPORT_FAILED',
    message: 'the TPM2_Create response has 1 unexpected trailing byte(s)',
  });
});

t.test('TPM2_EvictControl: owner authorization for the first handle only, the persistent handle as the parameter', async (t) => {
  const command = evictControlCommand({ authHandle: TPM_RH.OWNER, auth: EMPTY, objectHandle: 0x80000002, persistentHandle: 0x81000010 });
  t.equal(
    buildCommand(command.frame).toString('hex'),
    '8002' + '00000023' + '00000120' + '40000001' + '80000002' + '00000009' + '40000009' + '0000' + '00' + '0000' + '81000010',
  );
  t.equal(command.decode(parseResponseBody(response('8002', '00000000' + '0000' + '01' + '0000'), 0, 'r')), undefined);
});
