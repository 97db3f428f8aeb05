import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface PrivateCa {
  /** PEM file of the CA certificate (what AWS_CA_BUNDLE or SSL_CERT_FILE would name). */
  readonly certificatePath: string;
  /** A TLS server certificate and key (PEM text) for the given names, issued by this CA. */
  issueServer(name: string, altNames: readonly string[]): Promise<{ certPem: string; keyPem: string }>;
}

/**
 * A company CA as the openssl CLI makes one, for TLS endpoints and proxies in tests: the kind of
 * CA a TLS-inspecting proxy or an internal endpoint chains to, trusted by nothing by default.
 */
export async function createPrivateCa(dir: string, name: string): Promise<PrivateCa> {
  const certificatePath = join(dir, `${name}.ca.pem`);
  const keyPath = join(dir, `${name}.ca.key`);
  await execFileAsync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name} Root CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', keyPath, '-out', certificatePath]);
  return {
    certificatePath,
    async issueServer(server, altNames) {
      const base = join(dir, `${name}.${server}`);
      await writeFile(`${base}.ext`, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${altNames.join(',')}\n`);
      await execFileAsync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${server}`,
        '-keyout', `${base}.key`, '-out', `${base}.csr`]);
      await execFileAsync('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', certificatePath, '-CAkey', keyPath, '-set_serial', `0x${Date.now().toString(16)}`,
        '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.pem`]);
      return { certPem: await readFile(`${base}.pem`, 'utf8'), keyPem: await readFile(`${base}.key`, 'utf8') };
    },
  };
}
