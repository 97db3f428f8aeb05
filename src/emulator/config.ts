/**
 * Emulator configuration: the account's trust anchors, profiles and roles, as a JSON file or a
 * plain object. Validation is strict and happens once, at start, with one message per problem
 * naming the exact field, so a typo never turns into a puzzling 403 later.
 */
import { dirname, resolve } from 'node:path';
import { looksLikePem, parsePemBlocks } from '../certs/pem.js';
import { checkTrustAnchor } from '../certs/rules.js';
import { SignerError } from '../errors.js';
import { describeReadFailure, readUserFile } from '../files/read-user-file.js';
import { toTerminalText } from '../terminal-text.js';

export interface EmulatorConfig {
  readonly region: string;
  /** 12 digits; every ARN below must be in this account. */
  readonly accountId: string;
  readonly trustAnchors: readonly TrustAnchorConfig[];
  readonly profiles: readonly ProfileConfig[];
  /** Optional role limits; a role not listed here has the STS default maximum (12 hours). */
  readonly roles?: readonly RoleConfig[];
}

export interface TrustAnchorConfig {
  readonly arn: string;
  /** PEM text (one or more certificates) or paths to PEM/DER files, relative to the config file. */
  readonly certificates: readonly string[];
  /** Default true. */
  readonly enabled?: boolean;
}

export interface ProfileConfig {
  readonly arn: string;
  readonly roleArns: readonly string[];
  /** The profile's session duration cap, 900..43200; default 3600 as in the service. */
  readonly durationSeconds?: number;
  /** Default false: CreateSession with roleSessionName is then refused. */
  readonly acceptRoleSessionName?: boolean;
  /** Default true. */
  readonly enabled?: boolean;
}

export interface RoleConfig {
  readonly arn: string;
  /** The role's MaxSessionDuration, 3600..43200. */
  readonly maxSessionDuration?: number;
}

/** The validated form the server works from: certificates decoded, defaults applied. */
export interface ResolvedEmulatorConfig {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly trustAnchors: ReadonlyMap<string, ResolvedTrustAnchor>;
  readonly profiles: ReadonlyMap<string, ResolvedProfile>;
  readonly roles: ReadonlyMap<string, RoleConfig>;
}

export interface ResolvedTrustAnchor {
  readonly arn: string;
  readonly certificates: readonly Uint8Array[];
  readonly enabled: boolean;
}

export interface ResolvedProfile {
  readonly arn: string;
  readonly roleArns: readonly string[];
  readonly durationSeconds: number;
  readonly acceptRoleSessionName: boolean;
  readonly enabled: boolean;
}

export interface ResolveConfigOptions {
  /** Where relative certificate paths start; the config file's folder when loaded from a file. */
  readonly baseDir?: string;
  /** Injected for tests; reads a certificate file. */
  readonly readFile?: (path: string) => Uint8Array;
}

const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43200;
const DEFAULT_PROFILE_DURATION_SECONDS = 3600;

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const ROLES_ANYWHERE_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):rolesanywhere:([a-z0-9-]+):(\d{12}):(trust-anchor|profile)\/([0-9A-Za-z-]+)$/;
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role\/([\w+=,.@/-]+)$/;

export interface RolesAnywhereArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: 'trust-anchor' | 'profile';
  readonly id: string;
}

export interface RoleArn {
  readonly partition: string;
  readonly accountId: string;
  /** The last path segment: what STS puts in assumed-role ARNs. */
  readonly roleName: string;
}

export function parseRolesAnywhereArn(arn: string): RolesAnywhereArn | undefined {
  const match = ROLES_ANYWHERE_ARN.exec(arn);
  if (match === null) return undefined;
  const [, partition = '', region = '', accountId = '', resourceType, id = ''] = match;
  return { partition, region, accountId, resourceType: resourceType === 'profile' ? 'profile' : 'trust-anchor', id };
}

export function parseRoleArn(arn: string): RoleArn | undefined {
  const match = ROLE_ARN.exec(arn);
  if (match === null) return undefined;
  const [, partition = '', accountId = '', path = ''] = match;
  return { partition, accountId, roleName: path.split('/').at(-1) ?? path };
}

/** Reads and validates a JSON config file; certificate paths resolve from the file's folder. */
export function loadEmulatorConfigFile(path: string): ResolvedEmulatorConfig {
  return resolveEmulatorConfig(readEmulatorConfigObject(path), { baseDir: dirname(resolve(path)) });
}

/** The JSON object in a config file, not yet validated (so callers can apply flags first). */
export function readEmulatorConfigObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readUserFile(path).toString('utf8');
  } catch (error) {
    throw new SignerError('EMULATOR_CONFIG_INVALID', `cannot read emulator config ${path} (${describeReadFailure(error)}); check the path (emulate --init DIR writes one)`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SignerError('EMULATOR_CONFIG_INVALID', `emulator config ${path} is not valid JSON (${toTerminalText((error as Error).message, 200)}); fix the syntax`, { cause: error });
  }
  if (!isRecord(parsed)) fail('must be a JSON object with region, accountId, trustAnchors and profiles');
  return parsed;
}

/** Validates a config object (from JSON or code) and decodes its certificates. */
export function resolveEmulatorConfig(input: unknown, options: ResolveConfigOptions = {}): ResolvedEmulatorConfig {
  const baseDir = options.baseDir ?? process.cwd();
  const readFile = options.readFile ?? ((path: string) => new Uint8Array(readUserFile(path)));
  if (!isRecord(input)) fail('the config must be a JSON object with region, accountId, trustAnchors and profiles');
  const region = requireString(input, 'region', '');
  if (!REGION_PATTERN.test(region)) fail(`region: '${region}' is not an AWS region name like us-east-1`);
  const accountId = requireString(input, 'accountId', '');
  if (!ACCOUNT_PATTERN.test(accountId)) fail(`accountId: '${accountId}' must be 12 digits`);

  const trustAnchorInputs = requireArray(input, 'trustAnchors', '');
  if (trustAnchorInputs.length === 0) fail('trustAnchors: add at least one trust anchor');
  const partitions = new Set<string>();
  const trustAnchors = new Map<string, ResolvedTrustAnchor>();
  trustAnchorInputs.forEach((entry, index) => {
    const where = `trustAnchors[${index}]`;
    if (!isRecord(entry)) fail(`${where}: must be an object with arn and certificates`);
    const arn = requireString(entry, 'arn', where);
    const parsed = checkRolesAnywhereArn(arn, 'trust-anchor', `${where}.arn`, region, accountId);
    partitions.add(parsed.partition);
    if (trustAnchors.has(arn)) fail(`${where}.arn: ${arn} is listed twice`);
    const sources = requireArray(entry, 'certificates', where);
    if (sources.length === 0) fail(`${where}.certificates: add at least one CA certificate (PEM text or a file path)`);
    const certificates = sources.flatMap((source, sourceIndex) => {
      const sourceWhere = `${where}.certificates[${sourceIndex}]`;
      if (typeof source !== 'string' || source.trim() === '') fail(`${sourceWhere}: must be PEM text or a file path`);
      return loadCertificates(source, sourceWhere, baseDir, readFile);
    });
    certificates.forEach((der, certificateIndex) => {
      const violations = checkTrustAnchor(der);
      if (violations.length > 0) {
        fail(`${where} certificate ${certificateIndex + 1}: ${violations.map((violation) => violation.message).join('; ')}`);
      }
    });
    trustAnchors.set(arn, { arn, certificates, enabled: optionalBoolean(entry, 'enabled', where) ?? true });
  });

  const profileInputs = requireArray(input, 'profiles', '');
  if (profileInputs.length === 0) fail('profiles: add at least one profile');
  const profiles = new Map<string, ResolvedProfile>();
  profileInputs.forEach((entry, index) => {
    const where = `profiles[${index}]`;
    if (!isRecord(entry)) fail(`${where}: must be an object with arn and roleArns`);
    const arn = requireString(entry, 'arn', where);
    const parsed = checkRolesAnywhereArn(arn, 'profile', `${where}.arn`, region, accountId);
    partitions.add(parsed.partition);
    if (profiles.has(arn)) fail(`${where}.arn: ${arn} is listed twice`);
    const roleArns = requireArray(entry, 'roleArns', where).map((roleArn, roleIndex) => {
      if (typeof roleArn !== 'string') fail(`${where}.roleArns[${roleIndex}]: must be a role ARN string`);
      checkRoleArn(roleArn, `${where}.roleArns[${roleIndex}]`, accountId);
      return roleArn;
    });
    if (roleArns.length === 0) fail(`${where}.roleArns: add at least one role ARN`);
    const durationSeconds = optionalInteger(entry, 'durationSeconds', where) ?? DEFAULT_PROFILE_DURATION_SECONDS;
    if (durationSeconds < MIN_DURATION_SECONDS || durationSeconds > MAX_DURATION_SECONDS) {
      fail(`${where}.durationSeconds: ${durationSeconds} is outside ${MIN_DURATION_SECONDS}..${MAX_DURATION_SECONDS}`);
    }
    profiles.set(arn, {
      arn,
      roleArns,
      durationSeconds,
      acceptRoleSessionName: optionalBoolean(entry, 'acceptRoleSessionName', where) ?? false,
      enabled: optionalBoolean(entry, 'enabled', where) ?? true,
    });
  });

  const roles = new Map<string, RoleConfig>();
  const roleInputs = input['roles'] === undefined ? [] : requireArray(input, 'roles', '');
  roleInputs.forEach((entry, index) => {
    const where = `roles[${index}]`;
    if (!isRecord(entry)) fail(`${where}: must be an object with arn`);
    const arn = requireString(entry, 'arn', where);
    checkRoleArn(arn, `${where}.arn`, accountId);
    const maxSessionDuration = optionalInteger(entry, 'maxSessionDuration', where);
    if (maxSessionDuration !== undefined && (maxSessionDuration < 3600 || maxSessionDuration > MAX_DURATION_SECONDS)) {
      fail(`${where}.maxSessionDuration: ${maxSessionDuration} is outside 3600..${MAX_DURATION_SECONDS} (the IAM limits)`);
    }
    roles.set(arn, maxSessionDuration === undefined ? { arn } : { arn, maxSessionDuration });
  });

  if (partitions.size > 1) fail(`ARNs mix partitions (${[...partitions].join(', ')}); use one partition`);
  return { region, accountId, partition: [...partitions][0] ?? 'aws', trustAnchors, profiles, roles };
}

/** The DER of every CERTIFICATE block in PEM text; other blocks are skipped, damaged ones refused. */
export function certificatesFromPem(text: string, source = 'PEM text'): Uint8Array[] {
  return parsePemBlocks(text, { source, errorCode: 'EMULATOR_CONFIG_INVALID' })
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => block.der);
}

/** PEM text, or a file holding PEM or one DER certificate, as DER certificates. */
function loadCertificates(source: string, where: string, baseDir: string, readFile: (path: string) => Uint8Array): Uint8Array[] {
  if (source.includes('-----BEGIN')) {
    const certificates = certificatesFromPem(source, `emulator config ${where}`);
    if (certificates.length === 0) fail(`${where}: the PEM text holds no CERTIFICATE block`);
    return certificates;
  }
  const path = resolve(baseDir, source);
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (error) {
    throw new SignerError('EMULATOR_CONFIG_INVALID', `emulator config ${where}: cannot read ${path} (${describeReadFailure(error)}); check the path (relative paths start at the config file's folder)`, { cause: error });
  }
  if (looksLikePem(bytes)) {
    const certificates = certificatesFromPem(Buffer.from(bytes).toString('latin1'), `emulator config ${where}: ${path}`);
    if (certificates.length === 0) fail(`${where}: ${path} holds no CERTIFICATE block`);
    return certificates;
  }
  return [bytes];
}

function checkRolesAnywhereArn(arn: string, type: 'trust-anchor' | 'profile', where: string, region: string, accountId: string): RolesAnywhereArn {
  const parsed = parseRolesAnywhereArn(arn);
  if (parsed === undefined || parsed.resourceType !== type) {
    fail(`${where}: '${arn}' is not a ${type} ARN like arn:aws:rolesanywhere:${region}:${accountId}:${type}/<id>`);
  }
  if (parsed.accountId !== accountId) fail(`${where}: ${arn} is in account ${parsed.accountId}, not accountId ${accountId}`);
  if (parsed.region !== region) fail(`${where}: ${arn} is in region ${parsed.region}, not the emulator's region ${region}`);
  return parsed;
}

function checkRoleArn(arn: string, where: string, accountId: string): void {
  const parsed = parseRoleArn(arn);
  if (parsed === undefined) fail(`${where}: '${arn}' is not a role ARN like arn:aws:iam::${accountId}:role/<name>`);
  if (parsed.accountId !== accountId) fail(`${where}: ${arn} is in account ${parsed.accountId}, not accountId ${accountId}`);
}

function requireString(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value === '') fail(`${field(where, key)}: required, a non-empty string`);
  return value;
}

function requireArray(record: Record<string, unknown>, key: string, where: string): unknown[] {
  const value = record[key];
  if (!Array.isArray(value)) fail(`${field(where, key)}: required, an array`);
  return value;
}

function optionalBoolean(record: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(`${field(where, key)}: must be true or false`);
  return value;
}

function optionalInteger(record: Record<string, unknown>, key: string, where: string): number | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${field(where, key)}: must be a whole number of seconds`);
  return value;
}

function field(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  // Messages quote values from the file: whatever it holds must not steer the terminal.
  throw new SignerError('EMULATOR_CONFIG_INVALID', `emulator config ${toTerminalText(message)}`);
}
