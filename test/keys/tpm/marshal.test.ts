import t from 'tap';
import { isSignerError } from '../../../src/errors.js';
import { TPM_CC } from '../../../src/keys/tpm/constants.js';
import { TpmReader, TpmWriter, buildCommand, parseResponseBody, parseResponseHeader } from '../../../src/keys/tpm/marshal.js';
import { tpm2ToolsSignEcResponseHex } from './vectors.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

t.test('the writer emits big-endian integers and TPM2B sizes', async (t) => {
  const bytes = new TpmWriter().u8(0x01).u16(0x0203).u32(0x04050607).sized(hex('aabb')).sizedStructure((w) => w.u16(0x0c0d)).toBuffer();
  t.equal(bytes.toString('hex'), '01' + '0203' + '04050607' + '0002aabb' + '00020c0d');
});

t.test('a TPM2B cannot hold more than 65535 bytes', async (t) => {
  t.throws(() => new TpmWriter().sized(new Uint8Array(0x10000)), { code: 'INTERNAL', message: 'a TPM2B cannot hold 65536 bytes' });
  t.equal(new TpmWriter().sized(new Uint8Array(0xffff)).toBuffer().readUInt16BE(0), 0xffff, 'the largest TPM2B fits');
});

t.test('the reader refuses to read past the end, with the structure name and code', async (t) => {
  const reader = new TpmReader(hex('0003aabb'), { what: 'a test blob', code: 'TPM_KEYFILE_INVALID' });
  t.throws(() => reader.sized(), { code: 'TPM_KEYFILE_INVALID', message: 'a test blob is truncated: needed 3 byte(s) at offset 2, 2 left' });

  const trailing = new TpmReader(hex('0001ff00'), { what: 'a test blob', code: 'TPM_TRANSPORT_FAILED' });
  t.equal(trailing.sized().toString('hex'), 'ff');
  t.throws(() => trailing.end(), { code: 'TPM_TRANSPORT_FAILED', message: 'a test blob has 1 unexpected trailing byte(s)' });

  const raw = new TpmReader(hex('0002cafe01'), { what: 'x', code: 'TPM_KEYFILE_INVALID' });
  t.equal(raw.bytes(4).toString('hex'), '0002cafe');
  t.equal(raw.u8(), 1);
  t.equal(raw.remaining, 0);
});

t.test('a command without authorizations uses TPM_ST_NO_SESSIONS', async (t) => {
  const command = buildCommand({ commandCode: TPM_CC.FlushContext, handles: [], authorizations: [], parameters: hex('80000000') });
  t.equal(command.toString('hex'), '80010000000e0000016580000000');
});

t.test('a password authorization is TPM_RS_PW, empty nonce, no attributes, the password', async (t) => {
  const command = buildCommand({
    commandCode: TPM_CC.Sign,
    handles: [0x80000001],
    authorizations: [{ password: Buffer.from('pw') }],
    parameters: hex('abcd'),
  });
  t.equal(
    command.toString('hex'),
    '8002' + '0000001f' + '0000015d' + '80000001' + '0000000b' + '40000009' + '0000' + '00' + '00027077' + 'abcd',
  );
});

t.test('response headers: size and tag are checked against what arrived', async (t) => {
  t.same(parseResponseHeader(hex('80010000000a00000000'), 'r'), { tag: 0x8001, size: 10, responseCode: 0 });
  t.same(parseResponseHeader(hex('80010000000a0000098e'), 'r').responseCode, 0x98e);
  t.throws(() => parseResponseHeader(hex('80010000000b00000000'), 'the TPM2_Sign response'), {
    code: 'TPM_TRANSPORT_FAILED',
    message: 'the TPM2_Sign response says it is 11 bytes long but 10 arrived',
  });
  t.throws(() => parseResponseHeader(hex('48540000000a00000000'), 'the reply'), {
    code: 'TPM_TRANSPORT_FAILED',
    message: 'the reply has tag 0x4854, which no TPM 2.0 response has: the other end does not speak the TPM 2.0 command protocol',
  });
  let error: unknown;
  try {
    parseResponseHeader(hex('8001000000'), 'a short reply');
  } catch (caught) {
    error = caught;
  }
  t.ok(isSignerError(error, 'TPM_TRANSPORT_FAILED'), 'a response shorter than a header is a transport failure');
});

t.test('a response with sessions: parameters are exactly parameterSize bytes', async (t) => {
  // Recorded TPM2_Sign response: 0x48 bytes of parameters, then an HMAC session's area.
  const body = parseResponseBody(hex(tpm2ToolsSignEcResponseHex), 0, 'the TPM2_Sign response');
  t.same(body.handles, []);
  t.equal(body.parameters.remaining, 0x48);
  t.equal(body.parameters.u16(), 0x0018, 'ECDSA');

  const withHandle = parseResponseBody(hex('8002' + '00000019' + '00000000' + '80000002' + '00000002' + 'beef' + '0000' + '00' + '0000'), 1, 'r');
  t.same(withHandle.handles, [0x80000002]);
  t.equal(withHandle.parameters.u16(), 0xbeef);
  t.equal(withHandle.parameters.remaining, 0);
});
