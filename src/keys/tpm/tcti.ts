import { SignerError } from '../../errors.js';

/**
 * Where the TPM is, in the TCTI syntax of tpm2-tools (`TPM2TOOLS_TCTI`), so one setting serves
 * both: `device:/dev/tpmrm0`, `swtpm:host=127.0.0.1,port=2321`, plus `unix:/path` for swtpm's
 * UNIX socket (`--server type=unixio`). Parsing is pure; the environment and the file system
 * come in as parameters.
 */
export type TpmTarget =
  | { readonly kind: 'device'; readonly path: string; readonly origin: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly origin: string }
  | { readonly kind: 'unix'; readonly path: string; readonly origin: string };

/** Our own variable; wins over TPM2TOOLS_TCTI so the helper can use another TPM than the tools. */
export const TPM_TCTI_ENV = 'ROLES_ANYWHERE_TPM_TCTI';
/** tpm2-tools' variable, honoured for compatibility. */
const TPM2TOOLS_TCTI_ENV = 'TPM2TOOLS_TCTI';
/** The reference helper's variable: a device path or a UNIX socket path. */
const TPM_DEVICE_ENV = 'TPM_DEVICE';

/** Kernel resource manager first: it flushes what a crashed process left behind. */
const DEFAULT_DEVICES = Object.freeze(['/dev/tpmrm0', '/dev/tpm0']);

const SWTPM_DEFAULT_HOST = 'localhost';
const SWTPM_DEFAULT_PORT = 2321;
// tpm2-tss' device TCTI opens /dev/tpm0 when no path is given.
const DEVICE_TCTI_DEFAULT_PATH = '/dev/tpm0';

const TCTI_HELP = 'write device:/dev/tpmrm0, swtpm:host=127.0.0.1,port=2321 or unix:/path/to/swtpm.sock';

export type PathKind = 'socket' | 'other' | 'missing';

export interface TargetResolutionIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** What is at `path`: a UNIX socket, something else (a device, a file), or nothing. */
  readonly pathKind: (path: string) => PathKind;
}

/** Parses one TCTI string; `origin` names where it came from, for messages. */
export function parseTcti(text: string, origin: string): TpmTarget {
  const trimmed = text.trim();
  if (trimmed.startsWith('/')) return { kind: 'device', path: trimmed, origin };
  const colon = trimmed.indexOf(':');
  const rawName = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const config = colon === -1 ? '' : trimmed.slice(colon + 1);
  // tpm2-tss also accepts library names: libtss2-tcti-device.so.0, tcti-swtpm.
  const name = rawName.replace(/^libtss2-/, '').replace(/^tcti-/, '').replace(/\.so(\.\d+)*$/, '');
  switch (name) {
    case 'device':
      return { kind: 'device', path: config === '' ? DEVICE_TCTI_DEFAULT_PATH : config, origin };
    case 'unix':
      if (config === '') throw invalid(text, origin, 'names no socket path');
      return { kind: 'unix', path: config, origin };
    case 'swtpm':
      return parseSwtpmConfig(text, config, origin);
    case 'mssim':
      throw new SignerError('NOT_SUPPORTED', `the TCTI "${text}" (${origin}) uses the mssim simulator protocol, which is not supported: run swtpm and use swtpm:host=...,port=...`);
    case 'tabrmd':
      throw new SignerError('NOT_SUPPORTED', `the TCTI "${text}" (${origin}) needs tpm2-abrmd over D-Bus, which is not supported: use device:/dev/tpmrm0, the kernel's resource manager`);
    default:
      throw invalid(text, origin, 'is not understood');
  }
}

function parseSwtpmConfig(text: string, config: string, origin: string): TpmTarget {
  let host = SWTPM_DEFAULT_HOST;
  let port = SWTPM_DEFAULT_PORT;
  let path: string | undefined;
  for (const pair of config.split(',')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = equals === -1 ? pair : pair.slice(0, equals);
    const value = equals === -1 ? '' : pair.slice(equals + 1);
    if (key === 'host' && value !== '') host = value;
    else if (key === 'port' && /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535) port = Number(value);
    else if (key === 'path' && value !== '') path = value;
    else throw invalid(text, origin, `has a bad setting "${pair}" (swtpm takes host=, port= 1-65535, or path=)`);
  }
  // tpm2-tss 4 spells swtpm's UNIX socket as swtpm:path=...
  if (path !== undefined) return { kind: 'unix', path, origin };
  return { kind: 'tcp', host, port, origin };
}

function invalid(text: string, origin: string, problem: string): SignerError {
  return new SignerError('CONFIG_INVALID', `the TPM TCTI "${text}" (${origin}) ${problem}: ${TCTI_HELP}`);
}

/**
 * Picks the TPM: the explicit setting, then ROLES_ANYWHERE_TPM_TCTI, TPM2TOOLS_TCTI, TPM_DEVICE
 * (a device or a UNIX socket, told apart by what is at the path), then /dev/tpmrm0, /dev/tpm0.
 */
export function resolveTpmTarget(explicit: string | undefined, io: TargetResolutionIO): TpmTarget {
  if (explicit !== undefined && explicit.trim() !== '') return parseTcti(explicit, 'the TCTI setting');
  for (const name of [TPM_TCTI_ENV, TPM2TOOLS_TCTI_ENV]) {
    const value = io.env[name];
    if (value !== undefined && value.trim() !== '') return parseTcti(value, name);
  }
  const device = io.env[TPM_DEVICE_ENV];
  if (device !== undefined && device.trim() !== '') {
    const path = device.trim();
    return io.pathKind(path) === 'socket'
      ? { kind: 'unix', path, origin: TPM_DEVICE_ENV }
      : { kind: 'device', path, origin: TPM_DEVICE_ENV };
  }
  for (const path of DEFAULT_DEVICES) {
    if (io.pathKind(path) !== 'missing') return { kind: 'device', path, origin: 'the default device' };
  }
  throw new SignerError(
    'TPM_UNAVAILABLE',
    `no TPM found: ${DEFAULT_DEVICES.join(' and ')} do not exist: on a machine with a TPM load its driver; for a TPM simulator set ${TPM_TCTI_ENV}=swtpm:host=127.0.0.1,port=2321`,
  );
}

/** A short, secret-free name for messages. */
export function describeTarget(target: TpmTarget): string {
  switch (target.kind) {
    case 'device':
      return target.path;
    case 'unix':
      return `UNIX socket ${target.path}`;
    case 'tcp':
      return `swtpm ${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  }
}
