import t from 'tap';
import { TpmClient, tpmCommandError, tpmFailureOf } from '../../../src/keys/tpm/client.js';
import { createPrimaryCommand, getCapabilityCommand, readPublicCommand } from '../../../src/keys/tpm/commands.js';
import { TPM_CAP, TPM_HT, TPM_RH } from '../../../src/keys/tpm/constants.js';
import { buildCommand } from '../../../src/keys/tpm/marshal.js';
import { ECC_P256_STORAGE_PRIMARY } from '../../../src/keys/tpm/templates.js';
import type { TpmTransport } from '../../../src/keys/tpm/transport.js';
import { swtpmFor, withClient } from './rig.js';

const EMPTY_HANDLE_LIST = Buffer.from('80010000001300000000' + '00' + '00000001' + '00000000', 'hex');

function failure(rc: number): Buffer {
  const response = Buffer.alloc(10);
  response.writeUInt16BE(0x8001, 0);
  response.writeUInt32BE(10, 2);
  response.writeUInt32BE(rc, 6);
  return response;
}

/** A GetCapability(TPM_CAP_HANDLES) answer. */
function handleList(moreData: boolean, handles: readonly number[]): Buffer {
  const response = Buffer.alloc(19 + 4 * handles.length);
  response.writeUInt16BE(0x8001, 0);
  response.writeUInt32BE(response.length, 2);
  response.writeUInt8(moreData ? 1 : 0, 10);
  response.writeUInt32BE(TPM_CAP.HANDLES, 11);
  response.writeUInt32BE(handles.length, 15);
  handles.forEach((handle, index) => response.writeUInt32BE(handle, 19 + 4 * index));
  return response;
}

/** Plays back canned responses: the TPM cannot be made to answer RETRY on demand. */
function scripted(responses: Buffer[]): TpmTransport & { sent: number; commands: Buffer[] } {
  const transport = {
    description: 'scripted TPM',
    sent: 0,
    commands: [] as Buffer[],
    async transmit(command: Uint8Array): Promise<Buffer> {
      // A copy: the client zeroes its command bytes once the answer is in.
      transport.commands.push(Buffer.from(command));
      const next = responses[transport.sent++];
      if (next === undefined) throw new Error('no more responses');
      return next;
    },
    async close(): Promise<void> {},
  };
  return transport;
}

const handlesQuery = getCapabilityCommand({ capability: TPM_CAP.HANDLES, property: 0x80000000, propertyCount: 1 });

t.test('TPM_RC_RETRY, YIELDED and TESTING are resent, with growing pauses, a bounded number of times', async (t) => {
  const pauses: number[] = [];
  const transport = scripted([failure(0x922), failure(0x908), failure(0x90a), EMPTY_HANDLE_LIST]);
  const client = new TpmClient(transport, { sleep: async (ms) => void pauses.push(ms) });
  t.same(await client.run(handlesQuery), { moreData: false, data: { capability: TPM_CAP.HANDLES, handles: [] } });
  t.equal(transport.sent, 4);
  t.same(pauses, [25, 50, 100]);

  const stubborn = scripted(Array.from({ length: 10 }, () => failure(0x922)));
  const giveUp = new TpmClient(stubborn, { sleep: async () => undefined, maxAttempts: 3 });
  await t.rejects(giveUp.run(handlesQuery), {
    code: 'TPM_COMMAND_FAILED',
    message: 'TPM2_GetCapability failed: TPM_RC_RETRY (0x922): the TPM was not able to start the command; retry it',
  });
  t.equal(stubborn.sent, 3, 'three attempts, then the error');
});

t.test('other failures are not resent; the response code travels in the cause', async (t) => {
  const transport = scripted([failure(0x98e)]);
  const client = new TpmClient(transport, { sleep: async () => undefined });
  let caught: unknown;
  try {
    await client.run(handlesQuery);
  } catch (error) {
    caught = error;
  }
  t.equal(transport.sent, 1);
  t.has(caught, { code: 'TPM_AUTH_FAILED', message: 'TPM2_GetCapability failed: TPM_RC_AUTH_FAIL (0x98e, session 1): the authorization check failed (wrong password) and the dictionary-attack counter was incremented' });
  t.equal(tpmFailureOf(caught)?.responseCode.rc, 0x98e);
  t.equal(tpmFailureOf(caught)?.command, 'TPM2_GetCapability');
  t.equal(String((caught as Error).cause), 'TPM2_GetCapability: TPM_RC_AUTH_FAIL (0x98e, session 1): the authorization check failed (wrong password) and the dictionary-attack counter was incremented');
  t.equal(tpmFailureOf(new Error('x')), undefined);
});

t.test('error codes by response code', async (t) => {
  t.equal(tpmCommandError('TPM2_Sign', 0x9a2).code, 'TPM_AUTH_FAILED', 'BAD_AUTH');
  t.equal(tpmCommandError('TPM2_Sign', 0x921).code, 'TPM_LOCKOUT');
  t.equal(tpmCommandError('TPM2_Load', 0x18b).code, 'TPM_COMMAND_FAILED');
});

t.test('listHandles asks again from after the last handle while moreData is set, and stops at the end of the type', async (t) => {
  const transport = scripted([handleList(true, [0x80000000, 0x80000001]), handleList(true, [0x80000002, 0x81000001])]);
  t.same(await new TpmClient(transport).listTransientHandles(), [0x80000000, 0x80000001, 0x80000002]);
  // TPM2_GetCapability parameters: capability at offset 10, first property at 14.
  t.same(transport.commands.map((command) => command.readUInt32BE(14)), [0x80000000, 0x80000002], 'the second query starts after 0x80000001');

  const confused = scripted([Buffer.from('80010000001300000000' + '00' + '00000006' + '00000000', 'hex')]);
  await t.rejects(new TpmClient(confused).listTransientHandles(), { code: 'TPM_TRANSPORT_FAILED', message: 'TPM2_GetCapability answered another capability' });
});

t.test('a TPM that was never started is started, and the command resent (real swtpm)', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'tcp', startupClear: false });
  await withClient(swtpm, async (client) => {
    const raw = await client.transport.transmit(buildCommand(handlesQuery.frame));
    t.equal(raw.readUInt32BE(6), 0x100, 'the simulator answers TPM_RC_INITIALIZE before TPM2_Startup');
    t.same(await client.listTransientHandles(), []);
    await client.startup();
    t.pass('a second TPM2_Startup (TPM_RC_INITIALIZE) is not an error');
  });
});

t.test('listHandles and a missing object on real swtpm', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'unix' });
  await withClient(swtpm, async (client) => {
    const primaries = await Promise.all([1, 2].map(() => client.run(createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: new Uint8Array(0), template: ECC_P256_STORAGE_PRIMARY }))));
    t.same(await client.listTransientHandles(), primaries.map((p) => p.handle).sort());
    t.same(primaries[0]?.name, primaries[1]?.name, 'the same template gives the same key: the parent a key file expects');
    for (const primary of primaries) await client.flush(primary.handle);
    t.same(await client.listTransientHandles(), []);
    t.same(await client.listHandles(TPM_HT.PERSISTENT), []);
    let caught: unknown;
    try {
      await client.run(readPublicCommand(0x81000042));
    } catch (error) {
      caught = error;
    }
    t.has(caught, { code: 'TPM_COMMAND_FAILED', message: 'TPM2_ReadPublic failed: TPM_RC_HANDLE (0x18b, handle 1): the handle is not correct for the use (no such object)' });
  });
});
