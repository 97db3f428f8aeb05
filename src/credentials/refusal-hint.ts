import { X509Certificate } from 'node:crypto';

/** What credential-process already holds when the service refuses: no key use, no PIN. */
export interface RefusalFacts {
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly region: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly now: Date;
}

/**
 * The most likely local cause of a CreateSession refusal, as one line, from what was sent.
 * The certificate rules and the key/certificate match were already checked before sending
 * (keys/identity.ts, and every signature is verified against the certificate), so what is
 * left is what only the service knows: the trust anchor, the clock, the ARNs. Pure.
 */
export function refusalHint(serviceMessage: string, facts: RefusalFacts): string | undefined {
  const message = serviceMessage.toLowerCase();
  if (message.includes('untrusted signing certificate')) {
    const last = new X509Certificate(facts.chain.at(-1) ?? facts.certificate);
    const leafName = oneLine(new X509Certificate(facts.certificate).subject);
    const sent = facts.chain.length === 0
      ? `the certificate "${leafName}" was sent without intermediates`
      : `the chain sent (${facts.chain.length} intermediate(s)) ends at "${oneLine(last.subject)}"`;
    return `${sent}, issued by "${oneLine(last.issuer)}": the trust anchor must hold that CA (or pass the missing intermediates with --intermediates); run roles-anywhere-signer doctor with the same flags and --trust-anchor-certificate <the anchor's CA bundle> to see the path`;
  }
  if (message.includes('signature expired') || message.includes('clock')) {
    return `this machine's clock reads ${facts.now.toISOString().replace(/\.\d{3}Z$/, 'Z')} (UTC); the service allows only minutes of skew: synchronise the clock (timedatectl, chronyc tracking)`;
  }
  if (message.includes('invalid signature')) {
    return 'the signature was verified against the certificate before it was sent, so the request changed on the way (a proxy rewriting headers or body) or the endpoint is not IAM Roles Anywhere: check --endpoint and --with-proxy';
  }
  if (message.includes('trust anchor not found')) {
    return `the request went to region ${facts.region}: check that ${facts.trustAnchorArn} exists there (aws rolesanywhere list-trust-anchors --region ${facts.region}) and that --region and --endpoint agree with it`;
  }
  if (message.includes('profile not found')) {
    return `the request went to region ${facts.region}: check that ${facts.profileArn} exists there (aws rolesanywhere list-profiles --region ${facts.region})`;
  }
  if (message.includes('not associated with the profile')) {
    return `add the role to the profile's roles (aws rolesanywhere update-profile --profile-id ... --role-arns ...), or pass a role the profile lists`;
  }
  return undefined;
}

function oneLine(name: string | undefined): string {
  return (name ?? '').split('\n').reverse().join(',');
}
