/**
 * An environment for child processes that run the CLI or the aws CLI in tests, the demo and
 * benchmarks: nothing inherited that would change what they do (AWS settings, our own
 * variables, TPM selections, proxies), and IMDS lookups off so the SDKs never wait on it.
 */
export function isolatedEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('AWS_') || key.startsWith('ROLES_ANYWHERE_') || key === 'TPM2TOOLS_TCTI' || key === 'TPM2OPENSSL_TCTI') continue;
    if (key.toLowerCase().endsWith('_proxy')) continue;
    // CA settings the CLI reads (AWS_CA_BUNDLE goes with AWS_* above); NODE_EXTRA_CA_CERTS is Node's own.
    if (key === 'SSL_CERT_FILE' || key === 'SSL_CERT_DIR') continue;
    env[key] = value;
  }
  env['AWS_EC2_METADATA_DISABLED'] = 'true';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
