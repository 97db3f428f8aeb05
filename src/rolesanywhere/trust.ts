import { SignerError } from '../errors.js';

/**
 * Which CA certificates verify the endpoint (and an https:// proxy), from the settings the AWS
 * CLI and the reference helper (a Go program) read, first match wins:
 * 1. AWS_CA_BUNDLE, then 2. `ca_bundle` in the active profile of the AWS config file: the
 *    bundle replaces the built-in roots, as it does for the AWS CLI (botocore).
 * 3. SSL_CERT_FILE or SSL_CERT_DIR set: the system CAs as the reference helper (Go) reads them
 *    on Linux (`goSystemRoots`), in place of Node's built-in roots.
 * 4. Nothing set: Node's built-in roots.
 * NODE_EXTRA_CA_CERTS is added in every case (Node applies it on its own only when no CA list
 * is given, so it is read here whenever one is).
 */
export interface TrustDecision {
  /** The CA list for tls.connect; undefined keeps Node's defaults (NODE_EXTRA_CA_CERTS included). */
  readonly ca?: readonly string[];
  /** What was used and what was passed over, for --debug (paths only, never contents). */
  readonly description: string;
}

export interface TrustDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDirectory: string;
  /** File contents, or undefined when the file cannot be read. */
  readonly readText: (path: string) => string | undefined;
  /** Directory entries (names), or undefined when the directory cannot be read. */
  readonly listDirectory: (path: string) => readonly string[] | undefined;
  /** Node's built-in roots (tls.rootCertificates). */
  readonly builtInRoots: () => readonly string[];
  /**
   * Which file a path ends at (device and inode, links followed), so a file reached through
   * several names is read once: /etc/ssl/certs holds two links per certificate and the bundle.
   */
  readonly fileIdentity?: (path: string) => string | undefined;
}

export function resolveTrust(deps: TrustDeps): TrustDecision {
  const { env } = deps;
  const profileBundle = caBundleFromConfig(deps);
  const envBundle = nonEmpty(env['AWS_CA_BUNDLE']);
  const bundle = envBundle !== undefined ? { path: envBundle, from: 'AWS_CA_BUNDLE' } : profileBundle;
  if (bundle !== undefined) {
    const certificates = readBundle(bundle.path, bundle.from, deps);
    const passedOver = envBundle !== undefined && profileBundle !== undefined ? `; ${profileBundle.from} is not used (AWS_CA_BUNDLE wins)` : '';
    const sslPassedOver = nonEmpty(env['SSL_CERT_FILE']) !== undefined || nonEmpty(env['SSL_CERT_DIR']) !== undefined ? '; SSL_CERT_FILE/SSL_CERT_DIR are not used' : '';
    const extra = extraCertificates(deps);
    return {
      ca: distinct([...certificates, ...extra.certificates]),
      description: `trusting ${certificates.length} CA certificate(s) from ${bundle.from} ${bundle.path} in place of the built-in roots${extra.note}${passedOver}${sslPassedOver}`,
    };
  }

  const sslFile = nonEmpty(env['SSL_CERT_FILE']);
  const sslDirs = nonEmpty(env['SSL_CERT_DIR'])?.split(':').filter((dir) => dir !== '');
  if (sslFile === undefined && sslDirs === undefined) {
    return { description: 'trusting the built-in roots (and NODE_EXTRA_CA_CERTS if set)' };
  }
  const system = goSystemRoots(sslFile, sslDirs, deps);
  const extra = extraCertificates(deps);
  if (system.certificates.length === 0) {
    return {
      ca: distinct([...deps.builtInRoots(), ...extra.certificates]),
      description: `trusting the built-in roots: ${system.notes.join(', ')} gave no certificate${extra.note}`,
    };
  }
  return {
    ca: distinct([...system.certificates, ...extra.certificates]),
    description: `trusting the system CAs as Go reads them, in place of the built-in roots: ${system.notes.join(', ')}${extra.note}`,
  };
}

/** Where Go looks on Linux when SSL_CERT_FILE or SSL_CERT_DIR is not set (crypto/x509, root_linux.go). */
export const GO_DEFAULT_CERT_FILES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];
export const GO_DEFAULT_CERT_DIRECTORIES: readonly string[] = ['/etc/ssl/certs', '/etc/pki/tls/certs'];

/**
 * The reference helper's trust store: Go's system roots on Linux are the first readable file
 * (SSL_CERT_FILE, else the distribution bundle) plus every file in the directories (SSL_CERT_DIR,
 * colon-separated, else the distribution's); what cannot be read is skipped.
 */
function goSystemRoots(sslFile: string | undefined, sslDirs: readonly string[] | undefined, deps: TrustDeps): { certificates: string[]; notes: string[] } {
  const certificates: string[] = [];
  const notes: string[] = [];
  const seenFiles = new Set<string>();
  /** False when this file was read already under another name. */
  const firstVisit = (path: string): boolean => {
    const identity = deps.fileIdentity?.(path);
    if (identity === undefined) return true;
    if (seenFiles.has(identity)) return false;
    seenFiles.add(identity);
    return true;
  };
  const files = sslFile === undefined ? GO_DEFAULT_CERT_FILES : [sslFile];
  const fileLabel = sslFile === undefined ? 'file' : 'SSL_CERT_FILE';
  const readable = files.map((path) => ({ path, text: deps.readText(path) })).find((file) => file.text !== undefined);
  if (readable === undefined) {
    notes.push(sslFile === undefined ? 'no distribution bundle' : `SSL_CERT_FILE ${sslFile} cannot be read (skipped, as Go does)`);
  } else {
    firstVisit(readable.path);
    const found = pemCertificates(readable.text ?? '');
    certificates.push(...found);
    notes.push(`${found.length} from ${fileLabel} ${readable.path}`);
  }
  const dirLabel = sslDirs === undefined ? 'directory' : 'SSL_CERT_DIR';
  for (const dir of sslDirs ?? GO_DEFAULT_CERT_DIRECTORIES) {
    const names = deps.listDirectory(dir);
    if (names === undefined) {
      if (sslDirs !== undefined) notes.push(`SSL_CERT_DIR entry ${dir} cannot be read (skipped, as Go does)`);
      continue;
    }
    let count = 0;
    for (const name of [...names].sort()) {
      const path = `${dir.replace(/\/+$/, '')}/${name}`;
      if (!firstVisit(path)) continue;
      const found = pemCertificates(deps.readText(path) ?? '');
      count += found.length;
      certificates.push(...found);
    }
    notes.push(`${count} from ${dirLabel} ${dir}`);
  }
  return { certificates, notes };
}

/** `ca_bundle` of the profile the AWS CLI would use ($AWS_PROFILE, else default) in $AWS_CONFIG_FILE or ~/.aws/config. */
function caBundleFromConfig(deps: TrustDeps): { path: string; from: string } | undefined {
  const configPath = nonEmpty(deps.env['AWS_CONFIG_FILE']) ?? `${deps.homeDirectory}/.aws/config`;
  const text = deps.readText(expandHome(configPath, deps.homeDirectory));
  if (text === undefined) return undefined;
  const profile = nonEmpty(deps.env['AWS_PROFILE']) ?? nonEmpty(deps.env['AWS_DEFAULT_PROFILE']) ?? 'default';
  const value = profileSetting(text, profile, 'ca_bundle');
  if (value === undefined) return undefined;
  return { path: expandHome(value, deps.homeDirectory), from: `ca_bundle of profile ${profile} in ${configPath}` };
}

/** One setting of one profile in an AWS config file (`[profile NAME]`, or `[default]` for default). */
export function profileSetting(text: string, profile: string, key: string): string | undefined {
  const wanted = profile === 'default' ? new Set(['default', 'profile default']) : new Set([`profile ${profile}`]);
  let inProfile = false;
  let found: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section !== null) {
      inProfile = wanted.has((section[1] ?? '').replace(/\s+/g, ' '));
      continue;
    }
    if (!inProfile || /^\s/.test(rawLine)) continue;
    const setting = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (setting !== null && setting[1] === key) found = setting[2]?.trim();
  }
  return found === undefined || found === '' ? undefined : found;
}

function readBundle(path: string, from: string, deps: TrustDeps): string[] {
  const text = deps.readText(path);
  if (text === undefined) {
    throw new SignerError('CONFIG_INVALID', `${from} names ${path}, which cannot be read: fix the path or unset it`);
  }
  const certificates = pemCertificates(text);
  if (certificates.length === 0) {
    throw new SignerError('CONFIG_INVALID', `${from} names ${path}, which holds no PEM certificate: give a PEM bundle of CA certificates`);
  }
  return certificates;
}

function extraCertificates(deps: TrustDeps): { certificates: string[]; note: string } {
  const path = nonEmpty(deps.env['NODE_EXTRA_CA_CERTS']);
  if (path === undefined) return { certificates: [], note: '' };
  const certificates = pemCertificates(deps.readText(path) ?? '');
  return { certificates, note: `, plus ${certificates.length} from NODE_EXTRA_CA_CERTS ${path}` };
}

/**
 * Each certificate once: SSL_CERT_DIR=/etc/ssl/certs holds the system bundle and a link per
 * certificate, and every certificate costs time when the TLS context is built.
 */
function distinct(certificates: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const pem of certificates) {
    const key = pem.replace(/-----[A-Z ]+-----|\s/g, '');
    if (!seen.has(key)) seen.set(key, pem);
  }
  return [...seen.values()];
}

/** The PEM certificate blocks of a bundle; comments, keys and DER files contribute nothing. */
function pemCertificates(text: string): string[] {
  const begin = '-----BEGIN CERTIFICATE-----';
  const end = '-----END CERTIFICATE-----';
  const found: string[] = [];
  for (let from = text.indexOf(begin); from !== -1; from = text.indexOf(begin, from)) {
    const stop = text.indexOf(end, from + begin.length);
    if (stop === -1) break;
    found.push(text.slice(from, stop + end.length));
    from = stop + end.length;
  }
  return found;
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
