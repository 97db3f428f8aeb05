/**
 * Turns `emulate` flags into a validated config: a config file (with --region and
 * --trust-anchor-cert applied on top), or, with no file, a one-anchor, one-profile config built
 * from the certificates given, with fixed demo ARNs printed at start.
 */
import { dirname, resolve } from 'node:path';
import { encodePem, looksLikePem } from '../certs/pem.js';
import { SignerError } from '../errors.js';
import { describeReadFailure, readUserFile } from '../files/read-user-file.js';
import { readEmulatorConfigObject, resolveEmulatorConfig, type EmulatorConfig, type ResolvedEmulatorConfig } from './config.js';
import { DEMO_ACCOUNT_ID } from './init.js';
import { startEmulator, type RunningEmulator } from './server.js';

export interface LaunchConfigOptions {
  readonly configPath?: string;
  readonly region?: string;
  /** Certificate files (PEM or DER) to trust, relative to the working directory. */
  readonly trustAnchorCertificatePaths?: readonly string[];
}

export function resolveLaunchConfig(options: LaunchConfigOptions): ResolvedEmulatorConfig {
  const extraCertificates = (options.trustAnchorCertificatePaths ?? []).map((path) => readCertificateFile(path));
  if (options.configPath !== undefined) {
    const configPath = resolve(options.configPath);
    const parsed = readEmulatorConfigObject(configPath);
    const withRegion = options.region === undefined ? parsed : { ...parsed, region: options.region };
    const withAnchors = extraCertificates.length === 0 ? withRegion : appendToFirstTrustAnchor(withRegion, extraCertificates);
    return resolveEmulatorConfig(withAnchors, { baseDir: dirname(configPath) });
  }
  if (extraCertificates.length === 0) {
    throw new SignerError('USAGE', 'emulate needs --config FILE or at least one --trust-anchor-cert PEM (emulate --init DIR writes a starter config)');
  }
  return resolveEmulatorConfig(defaultLaunchConfig(options.region ?? 'us-east-1', extraCertificates));
}

/** The config used without --config: fixed, readable ARNs so scripts can hard-code them. */
function defaultLaunchConfig(region: string, certificates: readonly string[]): EmulatorConfig {
  return {
    region,
    accountId: DEMO_ACCOUNT_ID,
    trustAnchors: [{ arn: `arn:aws:rolesanywhere:${region}:${DEMO_ACCOUNT_ID}:trust-anchor/emulator`, certificates, enabled: true }],
    profiles: [
      {
        arn: `arn:aws:rolesanywhere:${region}:${DEMO_ACCOUNT_ID}:profile/emulator`,
        roleArns: [`arn:aws:iam::${DEMO_ACCOUNT_ID}:role/emulator`],
        durationSeconds: 3600,
        acceptRoleSessionName: true,
        enabled: true,
      },
    ],
  };
}

function appendToFirstTrustAnchor(config: Record<string, unknown>, certificates: readonly string[]): Record<string, unknown> {
  const anchors = config['trustAnchors'];
  if (!Array.isArray(anchors) || anchors.length === 0 || typeof anchors[0] !== 'object' || anchors[0] === null) {
    throw new SignerError('EMULATOR_CONFIG_INVALID', 'emulator config trustAnchors: --trust-anchor-cert adds to the first trust anchor, and the config has none');
  }
  const first = anchors[0] as Record<string, unknown>;
  const existing = Array.isArray(first['certificates']) ? (first['certificates'] as unknown[]) : [];
  return { ...config, trustAnchors: [{ ...first, certificates: [...existing, ...certificates] }, ...anchors.slice(1)] };
}

/** Reads a certificate file into PEM text, so config-relative path rules never apply to it. */
function readCertificateFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readUserFile(resolve(path));
  } catch (error) {
    throw new SignerError('CERT_NOT_FOUND', `cannot read trust anchor certificate ${path} (${describeReadFailure(error)}); check the path`, { cause: error });
  }
  return looksLikePem(bytes) ? bytes.toString('latin1') : encodePem('CERTIFICATE', bytes);
}

export interface LaunchEmulatorOptions extends LaunchConfigOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly log?: (line: string) => void;
}

/** What `emulate` runs: resolve the config from flags, then listen. */
export async function launchEmulator(options: LaunchEmulatorOptions): Promise<RunningEmulator> {
  const config = resolveLaunchConfig(options);
  return startEmulator(config, {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    ...(options.log === undefined ? {} : { log: options.log }),
  });
}

/** `--port` text -> 0..65535, or a USAGE error naming the flag. */
export function parsePortFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new SignerError('USAGE', `--port ${text} is not a port number; use 0..65535 (0 picks a free port)`);
  }
  return Number(text);
}
