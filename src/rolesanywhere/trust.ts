import { SignerError } from '../errors.js';

/**
 * Which CA certificates verify the endpoint (and an https:// proxy), from the settings the AWS
 * CLI and the reference helper (a Go program) read, first match wins:
 * 1. AWS_CA_BUNDLE, then 2. `ca_bundle` in the active profile of the AWS config file: the
 *    bundle replaces the built-in roots, as it does for the AWS CLI (botocore).
 * 3. SSL_CERT_FILE and SSL_CERT_DIR (colon-separated directories), as Go reads them on Linux:
 *    added to the built-in roots (Go on Linux also keeps reading the system directories, so
 *    there too they add to what is trusted).
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
  const sslDirs = nonEmpty(env['SSL_CERT_DIR'])?.split(':').filter((dir) => dir !== '') ?? [];
  if (sslFile === undefined && sslDirs.length === 0) {
    return { description: 'trusting the built-in roots (and NODE_EXTRA_CA_CERTS if set)' };
  }
  const added: string[] = [];
  const notes: string[] = [];
  if (sslFile !== undefined) {
    const text = deps.readText(sslFile);
    const found = text === undefined ? [] : pemCertificates(text);
    added.push(...found);
    notes.push(text === undefined ? `SSL_CERT_FILE ${sslFile} cannot be read (ignored, as Go does)` : `${found.length} from SSL_CERT_FILE ${sslFile}`);
  }
  for (const dir of sslDirs) {
    const names = deps.listDirectory(dir);
    if (names === undefined) {
      notes.push(`SSL_CERT_DIR entry ${dir} cannot be read (ignored, as Go does)`);
      continue;
    }
    let count = 0;
    for (const name of [...names].sort()) {
      const found = pemCertificates(deps.readText(`${dir.replace(/\/+$/, '')}/${name}`) ?? '');
      count += found.length;
      added.push(...found);
    }
    notes.push(`${count} from SSL_CERT_DIR ${dir}`);
  }
  const extra = extraCertificates(deps);
  return {
    ca: distinct([...deps.builtInRoots(), ...added, ...extra.certificates]),
    description: `trusting the built-in roots plus ${notes.join(', ')}${extra.note}`,
  };
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
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
