import { SignerError } from '../errors.js';
import { readUserFile } from '../files/read-user-file.js';
import type { TpmKeySpec } from '../keys/spec.js';
import { TpmClient } from '../keys/tpm/client.js';
import { createPrimaryCommand, getCapabilityCommand, loadCommand, readPublicCommand } from '../keys/tpm/commands.js';
import { TPMA_PERMANENT, TPM_CAP, TPM_HT, TPM_PT } from '../keys/tpm/constants.js';
import { handleText, hierarchyName, hex8, isMissingObject, loadError, storagePrimaryError } from '../keys/tpm/errors.js';
import { pathKindOf } from '../keys/tpm/path-kind.js';
import { parseTss2KeyFile } from '../keys/tpm/keyfile.js';
import { describeTarget, resolveTpmTarget, type PathKind, type TpmTarget } from '../keys/tpm/tcti.js';
import { ECC_P256_STORAGE_PRIMARY, RSA_2048_STORAGE_PRIMARY } from '../keys/tpm/templates.js';
import { openTransport, type TpmTransport } from '../keys/tpm/transport.js';
import { failedCheck, type CheckResult } from './checks.js';

/**
 * doctor's TPM lines: the TPM answers over the TCTI the key would use, the key loads under its
 * parent (TPM2_Load needs only the parent's authorization, so a password key is checked without
 * its password and no try is spent), and the dictionary-attack state, read with
 * TPM2_GetCapability, which needs no authorization at all.
 */
export interface TpmDoctorIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pathKind: (path: string) => PathKind;
  readonly openTransport: (target: TpmTarget) => Promise<TpmTransport>;
  readonly readFile: (path: string) => Buffer;
}

const defaultIO: TpmDoctorIO = {
  env: process.env,
  pathKind: pathKindOf,
  openTransport: (target) => openTransport(target),
  readFile: (path) => readUserFile(path),
};

export interface LockoutState {
  /** TPMA_PERMANENT (TPM_PT_PERMANENT). */
  readonly permanent: number;
  readonly counter: number;
  readonly maxAuthFail: number;
  /** Seconds after which one failure is forgotten (TPM_PT_LOCKOUT_INTERVAL); 0: never. */
  readonly interval: number;
}

/**
 * ok, warn when half the allowed failures are used (or at most 2 are left), fail in lockout:
 * from then on every key without noDA refuses its password until the counter drops.
 */
export function checkLockout(state: LockoutState, where: string): CheckResult {
  const { counter, maxAuthFail, interval } = state;
  const counted = `${counter} of ${maxAuthFail} failed authorizations counted`;
  const recovery = interval === 0
    ? 'the TPM forgets failures only when the lockout is reset'
    : `the TPM forgets one failure every ${interval} s`;
  if ((state.permanent & TPMA_PERMANENT.inLockout) !== 0) {
    return {
      check: 'tpm lockout',
      status: 'fail',
      detail: `the TPM at ${where} is in dictionary-attack lockout (${counted}): keys with a password are refused`,
      fix: `wait (${recovery}), or reset it with tpm2_dictionarylockout --clear-lockout (the lockout hierarchy's password); then find what sent wrong passwords`,
    };
  }
  const left = maxAuthFail - counter;
  if (counter > 0 && (counter * 2 >= maxAuthFail || left <= 2)) {
    return {
      check: 'tpm lockout',
      status: 'warn',
      detail: `${counted} at ${where}: ${left} more wrong password(s) put the TPM in lockout`,
      fix: `check the key password and its source before the next run; ${recovery}`,
    };
  }
  return { check: 'tpm lockout', status: 'ok', detail: `not in lockout (${counted})` };
}

/** The TPM lines for a TPM key; never signs, never sends the key's password. */
export async function checkTpm(spec: TpmKeySpec, io: Partial<TpmDoctorIO> = {}): Promise<CheckResult[]> {
  const effective: TpmDoctorIO = { ...defaultIO, ...io };
  let transport: TpmTransport;
  let where: string;
  try {
    const target = resolveTpmTarget(spec.tcti, effective);
    where = describeTarget(target);
    transport = await effective.openTransport(target);
  } catch (error) {
    return [failedCheck('tpm', error)];
  }
  try {
    const client = new TpmClient(transport);
    let state: LockoutState;
    try {
      state = await readLockoutState(client);
    } catch (error) {
      return [failedCheck('tpm', error)];
    }
    return [
      { check: 'tpm', status: 'ok', detail: `the TPM at ${where} answers (TPM2_GetCapability)` },
      checkLockout(state, where),
      await checkKeyLoads(client, spec, where, effective),
    ];
  } finally {
    await transport.close().catch(() => undefined);
  }
}

async function readLockoutState(client: TpmClient): Promise<LockoutState> {
  const { data } = await client.run(getCapabilityCommand({ capability: TPM_CAP.TPM_PROPERTIES, property: TPM_PT.PERMANENT, propertyCount: TPM_PT.LOCKOUT_RECOVERY - TPM_PT.PERMANENT + 1 }));
  if (data.capability !== TPM_CAP.TPM_PROPERTIES) throw new SignerError('TPM_TRANSPORT_FAILED', 'TPM2_GetCapability answered another capability');
  const value = (property: number): number => {
    const found = data.properties.find((entry) => entry.property === property);
    if (found === undefined) throw new SignerError('TPM_TRANSPORT_FAILED', `TPM2_GetCapability left out property 0x${property.toString(16)}`);
    return found.value;
  };
  return { permanent: value(TPM_PT.PERMANENT), counter: value(TPM_PT.LOCKOUT_COUNTER), maxAuthFail: value(TPM_PT.MAX_AUTH_FAIL), interval: value(TPM_PT.LOCKOUT_INTERVAL) };
}

async function checkKeyLoads(client: TpmClient, spec: TpmKeySpec, where: string, io: TpmDoctorIO): Promise<CheckResult> {
  try {
    if (spec.handle !== undefined) {
      try {
        await client.run(readPublicCommand(spec.handle));
      } catch (error) {
        if (isMissingObject(error, 1)) {
          throw new SignerError('KEY_NOT_FOUND', `there is no key at ${handleText(spec.handle)} in the TPM at ${where}: list persistent keys with tpm2_getcap handles-persistent`, { cause: error });
        }
        throw error;
      }
      return { check: 'tpm key', status: 'ok', detail: `${handleText(spec.handle)} is present (persistent)` };
    }
    const path = spec.keyFile as string;
    const file = parseTss2KeyFile(io.readFile(path), path);
    const fromHierarchy = file.parent >>> 24 === TPM_HT.PERMANENT;
    let primary: number | undefined;
    try {
      if (fromHierarchy) {
        try {
          primary = (await client.run(createPrimaryCommand({ hierarchy: file.parent, hierarchyAuth: Buffer.alloc(0), template: file.rsaParent ? RSA_2048_STORAGE_PRIMARY : ECC_P256_STORAGE_PRIMARY }))).handle;
        } catch (error) {
          throw storagePrimaryError(error, { hierarchy: file.parent, where, path });
        }
      }
      let loaded: number;
      try {
        loaded = (await client.run(loadCommand({ parentHandle: primary ?? file.parent, parentAuth: Buffer.alloc(0), inPrivate: file.privateBlob, inPublic: file.publicBlob }))).handle;
      } catch (error) {
        throw loadError(error, { parent: file.parent, where, path });
      }
      await client.flush(loaded).catch(() => undefined);
    } finally {
      if (primary !== undefined) await client.flush(primary).catch(() => undefined);
    }
    const parent = fromHierarchy ? `the ${hierarchyName(file.parent)} hierarchy's storage key` : hex8(file.parent);
    return { check: 'tpm key', status: 'ok', detail: `${path} loads under ${parent} (TPM2_Load; no password used)` };
  } catch (error) {
    return failedCheck('tpm key', error);
  }
}

