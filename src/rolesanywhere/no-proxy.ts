import { BlockList, isIP } from 'node:net';

/**
 * Whether NO_PROXY sends a request to `host`:`port` directly, as curl and the AWS CLI (Python's
 * urllib) read the variable, plus what Go (the reference helper) adds:
 * - entries are separated by commas (spaces around them ignored), matched case-insensitively;
 * - `*` alone sends everything directly;
 * - a domain matches itself and every subdomain on a dot boundary (`example.com` matches
 *   `api.example.com`, not `badexample.com`); a leading `.` or `*.` is ignored, as curl and
 *   Python do (Go alone would skip the domain itself);
 * - `name:port` or `ip:port` matches only that port (the URL's port, or 443/80 by default);
 * - an IP literal (IPv6 with or without brackets) matches that address, and a CIDR block
 *   (`10.0.0.0/8`, `fd00::/8`) the addresses inside it, as Go and curl 7.86+ do. IP entries
 *   never match host names: nothing is resolved here.
 * Loopback is not this function's business: callers never proxy it (Go's rule).
 */
export function noProxyMatches(noProxy: string, host: string, port: number): boolean {
  const target = normalizeHost(host);
  const targetIpFamily = isIP(target);
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (targetIpFamily !== 0 && cidrContains(entry, target, targetIpFamily)) return true;
      continue;
    }
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    const entryHost = normalizeHost(name.replace(/^\*?\.+/, ''));
    if (entryHost === '') continue;
    if (isIP(entryHost) !== 0 || targetIpFamily !== 0) {
      if (sameAddress(entryHost, target)) return true;
      continue;
    }
    if (target === entryHost || target.endsWith(`.${entryHost}`)) return true;
  }
  return false;
}

/** Lower case, brackets off IPv6 literals, no trailing dot of a fully qualified name. */
function normalizeHost(host: string): string {
  let value = host.trim().toLowerCase();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  return value.endsWith('.') ? value.slice(0, -1) : value;
}

/** `host:port`, `[v6]:port`, or no port at all (a bare IPv6 literal has colons but no port). */
function splitPort(entry: string): { name: string; entryPort?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) {
    return bracketed[2] === undefined ? { name: bracketed[1] ?? '' } : { name: bracketed[1] ?? '', entryPort: Number(bracketed[2]) };
  }
  if (isIP(entry) === 6) return { name: entry };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  if (withPort !== null) return { name: withPort[1] ?? '', entryPort: Number(withPort[2]) };
  return { name: entry };
}

function sameAddress(a: string, b: string): boolean {
  const familyA = isIP(a);
  const familyB = isIP(b);
  if (familyA === 0 || familyB === 0) return false;
  const list = new BlockList();
  list.addAddress(a, familyA === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, familyB === 4 ? 'ipv4' : 'ipv6');
}

function cidrContains(entry: string, target: string, targetFamily: number): boolean {
  const [network = '', bitsText = ''] = entry.split('/');
  const address = normalizeHost(network);
  const family = isIP(address);
  const bits = /^\d+$/.test(bitsText) ? Number(bitsText) : Number.NaN;
  if (family === 0 || !Number.isInteger(bits) || bits > (family === 4 ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(target, targetFamily === 4 ? 'ipv4' : 'ipv6');
}
