import { BlockList, isIP } from 'node:net';
import { SignerError } from '../errors.js';

/** What `serve` listens on, checked before any key is opened. */
export interface BindPlan {
  readonly host: string;
  readonly family: 4 | 6;
  readonly loopback: boolean;
}

/**
 * Loopback by default: credentials served on a reachable address go to anyone who can reach it.
 * Another address needs an explicit --allow-non-loopback and --hop-limit 1, so that answers
 * cannot leave the local link (a container bridge, for example).
 */
export function planBind(bind: string, options: { allowNonLoopback: boolean; hopLimit: number }): BindPlan {
  const host = bind === 'localhost' ? '127.0.0.1' : bind.replace(/^\[(.*)\]$/, '$1');
  const version = isIP(host);
  if (version !== 4 && version !== 6) {
    throw new SignerError('USAGE', `--bind ${JSON.stringify(bind)} is not an IP address: give an address such as 127.0.0.1 or ::1`);
  }
  const family = version;
  const loopback = loopbackAddresses().check(host, family === 4 ? 'ipv4' : 'ipv6');
  if (!loopback) {
    if (!options.allowNonLoopback) {
      throw new SignerError('USAGE', `--bind ${bind} is not a loopback address, so anyone who can reach it could take the credentials: bind to 127.0.0.1 or ::1, or pass --allow-non-loopback with --hop-limit 1`);
    }
    if (options.hopLimit !== 1) {
      throw new SignerError('USAGE', `--bind ${bind} is not a loopback address: it needs --hop-limit 1 so that answers cannot travel past the next hop`);
    }
  }
  return { host, family, loopback };
}

export function parseHopLimit(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > 255) {
    throw new SignerError('USAGE', `--hop-limit ${JSON.stringify(text)} is not a whole number from 1 to 255`);
  }
  return Number(text);
}

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) {
    throw new SignerError('USAGE', `--port ${JSON.stringify(text)} is not a port number from 0 to 65535`);
  }
  return Number(text);
}

/** URL host part: IPv6 literals in brackets. */
export function urlHost(host: string, family: 4 | 6): string {
  return family === 6 ? `[${host}]` : host;
}

function loopbackAddresses(): BlockList {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  return list;
}
