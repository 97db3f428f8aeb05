/**
 * What the differential suite found, one row per comparison. The tests assert each row: a case
 * whose observed differences are not exactly `differences` fails. docs/migration.md's table is
 * generated from these rows (scripts/differential-table.ts) and a test checks that the committed
 * table is the generated one, so the doc cannot claim what the suite does not check.
 *
 * `differences` names what differs. For CreateSession request rows it is in compare.ts's
 * vocabulary (header:NAME, authorization:PART, framing:..., request:...) and the tests match it
 * exactly against what they observe; for the other rows it is a summary of what their test
 * asserts one by one.
 */
export const TABLE_REFERENCE_VERSION = 'v1.5.0';

export type Outcome = 'identical' | 'equivalent' | 'accepted' | 'differs' | 'differs on purpose' | 'not compared';

export interface ResultRow {
  readonly id: string;
  readonly area: string;
  readonly comparison: string;
  readonly outcome: Outcome;
  /** Request rows: the sorted list of differences observed with TABLE_REFERENCE_VERSION (checked exactly). */
  readonly differences: readonly string[];
  /** Why they differ, or why there is no comparison. */
  readonly note: string;
}

/** What every CreateSession request of the reference has that ours has not, and why. */
const WIRE_DIFFERENCES = [
  'authorization:signature',
  'authorization:signedHeaders',
  'framing:header-order-and-case',
  'header:accept-encoding',
  'header:amz-sdk-invocation-id',
  'header:amz-sdk-request',
  'header:connection',
  'header:user-agent',
] as const;

const WIRE_NOTE =
  'Same request line, body, Host, Content-Type, Content-Length, X-Amz-Date, X-Amz-X509, X-Amz-X509-Chain and Credential=. ' +
  'The reference (AWS SDK for Go v2) also sends and signs Amz-Sdk-Invocation-Id (a random UUID per call) and Amz-Sdk-Request, ' +
  'so its SignedHeaders and Signature cannot equal anyone\'s; it adds User-Agent and Accept-Encoding: gzip; ours sends Connection: close. ' +
  'Header order and name case differ (HTTP framing; names are case-insensitive).';

const requestRow = (id: string, comparison: string): ResultRow => ({
  id,
  area: 'CreateSession request',
  comparison,
  outcome: 'equivalent',
  differences: WIRE_DIFFERENCES,
  note: WIRE_NOTE,
});

export const RESULT_ROWS: readonly ResultRow[] = [
  requestRow('request-rsa2048', 'RSA-2048 key file'),
  requestRow('request-rsa2048-intermediates', 'RSA-2048 key file, --intermediates'),
  requestRow('request-rsa3072-intermediates', 'RSA-3072 key file, --intermediates'),
  requestRow('request-rsa2048-session-name', 'RSA-2048, --role-session-name'),
  requestRow('request-rsa2048-duration', 'RSA-2048, --session-duration 900'),
  requestRow('request-ec-p256', 'EC P-256 key file, --intermediates (both accepted by the emulator)'),
  requestRow('request-ec-p384', 'EC P-384 key file, --intermediates (both accepted by the emulator)'),
  requestRow('request-pkcs11-rsa', 'the same RSA-2048 key on SoftHSM, pkcs11: URI, same module'),
  requestRow('request-tpm-rsa', 'the same RSA-2048 TSS2 key file on swtpm (TPM_DEVICE=UNIX socket)'),
  {
    id: 'request-mldsa',
    area: 'CreateSession request',
    comparison: 'ML-DSA-44/65/87 key files',
    outcome: 'not compared',
    differences: [],
    note: 'The newest reference the Go module proxy serves here (v1.5.0; v1.6.0 and later are refused) has no ML-DSA. The suite checks again with each newer reference it can build.',
  },
  {
    id: 'resign-rsa',
    area: 'SigV4-X509 signature',
    comparison: "RSA-2048 and RSA-3072: our core re-signs the reference's own request (its headers, date, key)",
    outcome: 'identical',
    differences: [],
    note: 'Authorization byte for byte identical: same canonical request, string to sign and PKCS#1 v1.5 signature.',
  },
  {
    id: 'resign-ec',
    area: 'SigV4-X509 signature',
    comparison: "EC P-256 and P-384: the reference's signature over the string to sign our core builds from its request",
    outcome: 'identical',
    differences: [],
    note: 'The reference\'s ECDSA signature verifies over our string to sign (ECDSA is randomized: signatures themselves always differ).',
  },
  {
    id: 'credential-process-stdout',
    area: 'credential-process',
    comparison: 'stdout for the same CreateSession answer',
    outcome: 'identical',
    differences: [],
    note: 'Byte for byte: compact JSON, same key order, no trailing newline.',
  },
  {
    id: 'aws-ca-bundle',
    area: 'credential-process',
    comparison: 'AWS_CA_BUNDLE set in the environment',
    outcome: 'differs on purpose',
    differences: ['exit code', 'stdout'],
    note: 'v1.5.0 fails every CreateSession ("unable to add custom RootCAs HTTPClient, has no WithTransportOptions": the AWS SDK for Go v2 cannot add the bundle to the helper\'s own HTTP client), in credential-process and serve alike. Ours gets credentials.',
  },
  {
    id: 'sign-string-rsa',
    area: 'sign-string',
    comparison: 'RSA-2048 key file, --format json|text|bin x --digest SHA256|SHA384|SHA512',
    outcome: 'identical',
    differences: [],
    note: 'All 9 outputs byte for byte identical (PKCS#1 v1.5 is deterministic).',
  },
  {
    id: 'sign-string-ec',
    area: 'sign-string',
    comparison: 'EC P-256 and P-384 key files, every --format and --digest',
    outcome: 'equivalent',
    differences: ['signature bytes'],
    note: 'Same output form; both signatures verify over the same fixed test string with the chosen digest (ECDSA is randomized).',
  },
  {
    id: 'sign-string-no-certificate',
    area: 'sign-string',
    comparison: 'a key file without --certificate',
    outcome: 'differs on purpose',
    differences: ['exit code', 'stdout'],
    note: 'The reference fails ("undefined certificate value", exit 1); ours signs: the test string needs only the key.',
  },
  {
    id: 'sign-string-tpm-rsa',
    area: 'sign-string',
    comparison: 'the same RSA-2048 TSS2 key file on swtpm, --format text, every --digest',
    outcome: 'identical',
    differences: [],
    note: 'Byte for byte identical signatures from the TPM.',
  },
  {
    id: 'tpm-no-terminal',
    area: 'TPM keys',
    comparison: 'a TSS2 key without a password, run without a terminal (as under an SDK or cron)',
    outcome: 'differs on purpose',
    differences: ['exit code', 'stdout'],
    note: 'The reference opens /dev/tty before each TPM signature even when the key needs no password, and fails ("unable to read your TPM key password"); ours asks for nothing and signs. The suite gives the reference a pseudo-terminal (util-linux script) to compare its output.',
  },
  {
    id: 'read-certificate-data',
    area: 'read-certificate-data',
    comparison: 'RSA-2048, EC P-256 and EC P-384 certificate files',
    outcome: 'identical',
    differences: [],
    note: 'stdout byte for byte identical.',
  },
  {
    id: 'serve-token',
    area: 'serve (IMDSv2)',
    comparison: 'PUT /latest/api/token',
    outcome: 'equivalent',
    differences: ['token length and alphabet'],
    note: 'Both 200, text/plain; charset=utf-8, the TTL echoed in X-aws-ec2-metadata-token-ttl-seconds. The token is opaque: 100 base64 characters there, 64 base64url characters here.',
  },
  {
    id: 'serve-role-list',
    area: 'serve (IMDSv2)',
    comparison: 'GET /latest/meta-data/iam/security-credentials/',
    outcome: 'identical',
    differences: [],
    note: 'Same status, content type and body (the role name).',
  },
  {
    id: 'serve-credentials',
    area: 'serve (IMDSv2)',
    comparison: 'GET .../security-credentials/ROLE',
    outcome: 'equivalent',
    differences: ['content type', 'key order and indentation', 'LastUpdated precision'],
    note: 'The same seven fields; Code and Type equal; Expiration in the same form. Ours is application/json and pretty-printed; LastUpdated has no fractional seconds here (the reference writes nanoseconds).',
  },
  {
    id: 'serve-refusals',
    area: 'serve (IMDSv2)',
    comparison: 'no token, an unknown token, PUT without a TTL, the -extended path',
    outcome: 'differs on purpose',
    differences: ['PUT without TTL', 'security-credentials-extended'],
    note: 'Both answer 401 without a token and with an unknown one. Without a TTL header the reference issues a token, ours answers 400 as IMDSv2 does. Ours also serves security-credentials-extended/ (the reference: 404).',
  },
  {
    id: 'python-session',
    area: 'other clients',
    comparison: "awslabs' Python iam-rolesanywhere-session 3.0.0 against the emulator (RSA-2048, EC P-256 with a role session name and 900 s, EC P-384)",
    outcome: 'accepted',
    differences: [],
    note: 'The emulator accepts its requests (HTTPS, ARNs in the JSON body instead of the query) and it gets credentials.',
  },
  {
    id: 'read-certificate-data-pkcs11',
    area: 'read-certificate-data',
    comparison: 'a certificate on SoftHSM through a pkcs11: URI',
    outcome: 'differs',
    differences: ['fingerprint hash', 'URI attributes and order', 'extra lines'],
    note: 'Same "Matching identities" heading, numbering and subject. The fingerprint is SHA-1 there, SHA-256 here. Both URIs name the same token and object; the reference writes its attributes in a random order (a Go map) with slot-description and slot-manufacturer, ours in a fixed order with token=. Ours adds Issuer, Serial, Valid and Key lines.',
  },
  {
    id: 'bad-input',
    area: 'bad input',
    comparison: 'a corpus of 35 bad inputs (missing or malformed flags, wrong files, mismatched key, bad ARNs, out-of-range duration, unreachable endpoint, unknown trust anchor)',
    outcome: 'differs on purpose',
    differences: ['exit code for usage errors', 'stderr text'],
    note: 'Both refuse every entry with nothing on stdout. Usage errors (unknown or malformed flags, missing required flags, unknown command) exit 2 here, 1 in the reference; ours says what was wrong in one line, the reference prints usage text or a Go error.',
  },
];

export function resultRow(id: string): ResultRow {
  const row = RESULT_ROWS.find((candidate) => candidate.id === id);
  if (row === undefined) throw new Error(`results.ts has no row ${id}`);
  return row;
}
