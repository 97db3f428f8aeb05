import t from 'tap';
import { resolveModulePath, systemModuleSearch, type ModuleSearch } from '../../../src/keys/pkcs11/module-path.js';
import { parsePkcs11Uri } from '../../../src/keys/pkcs11/uri.js';

/** A file system in a table: path -> 'file' | 'directory', plus p11-kit registration texts. */
function fakeSearch(entries: Record<string, 'file' | 'directory'>, texts: Record<string, string> = {}, platform: NodeJS.Platform = 'linux'): ModuleSearch {
  return {
    kindOf: (path) => entries[path],
    readText: (path) => texts[path],
    platform,
    registrationDirs: ['/home/u/.config/pkcs11/modules', '/usr/share/p11-kit/modules'],
    moduleDirs: ['/usr/lib/x86_64-linux-gnu/pkcs11', '/usr/lib/pkcs11'],
    proxyCandidates: ['/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so', '/usr/lib/p11-kit-proxy.so'],
  };
}

const uri = (text: string) => parsePkcs11Uri(text);

t.test('order: --pkcs11-lib, then module-path / module-name in the URI, then p11-kit-proxy', async (t) => {
  const search = fakeSearch({ '/usr/lib/p11-kit-proxy.so': 'file', '/opt/m.so': 'file' });
  t.same(resolveModulePath('/flag.so', [uri('pkcs11:?module-path=/opt/m.so')], search), { path: '/flag.so', origin: '--pkcs11-lib' });
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-path=/opt/m.so')], search), { path: '/opt/m.so', origin: 'module-path' });
  t.same(resolveModulePath('', [uri('pkcs11:object=k')], search), { path: '/usr/lib/p11-kit-proxy.so', origin: 'p11-kit-proxy' }, 'an empty flag counts as none');
  t.same(resolveModulePath(undefined, [], fakeSearch({})), { path: 'p11-kit-proxy.so', origin: 'p11-kit-proxy' }, 'a bare name leaves the search to the dynamic loader');
  t.same(resolveModulePath(undefined, [], fakeSearch({}, {}, 'darwin')), { path: 'p11-kit-proxy.dylib', origin: 'p11-kit-proxy' });
});

t.test('module-name: the p11-kit registration first, then the module directories', async (t) => {
  const texts = {
    '/usr/share/p11-kit/modules/softhsm2.module': '# comment\nmodule: /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so\n',
    '/usr/share/p11-kit/modules/opensc-pkcs11.module': 'module: opensc-pkcs11.so\n',
  };
  const search = fakeSearch({ '/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so': 'file', '/usr/lib/pkcs11/libykcs11.so': 'file' }, texts);
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-name=softhsm2')], search), { path: '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', origin: 'module-name' });
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-name=opensc-pkcs11')], search), { path: '/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so', origin: 'module-name' }, 'a relative module: line is found in the module directories');
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-name=ykcs11')], search), { path: '/usr/lib/pkcs11/libykcs11.so', origin: 'module-name' }, 'lib<name>.so in a module directory');
  t.throws(() => resolveModulePath(undefined, [uri('pkcs11:?module-name=nothing')], search), {
    code: 'PKCS11_MODULE_LOAD_FAILED',
    message: 'no PKCS#11 module named "nothing" is registered with p11-kit or installed in /usr/lib/x86_64-linux-gnu/pkcs11, /usr/lib/pkcs11: install it, or pass --pkcs11-lib /path/to/module',
  });
  t.throws(() => resolveModulePath(undefined, [uri('pkcs11:?module-name=a%2Fb')], search), { code: 'USAGE', message: 'module-name=a/b must be a name without a path: use module-path for a file' });
});

t.test('module-path may be a directory searched for module-name (RFC 7512 section 2.3)', async (t) => {
  const search = fakeSearch({ '/opt/yubico/lib': 'directory', '/opt/yubico/lib/libykcs11.so': 'file' });
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-name=ykcs11&module-path=/opt/yubico/lib')], search), { path: '/opt/yubico/lib/libykcs11.so', origin: 'module-path' });
  t.throws(() => resolveModulePath(undefined, [uri('pkcs11:?module-path=/opt/yubico/lib')], search), {
    code: 'USAGE',
    message: 'module-path=/opt/yubico/lib is a directory: add module-name=<name> to pick the module in it, or give the module file itself',
  });
  t.throws(() => resolveModulePath(undefined, [uri('pkcs11:?module-name=other&module-path=/opt/yubico/lib')], search), {
    code: 'PKCS11_MODULE_LOAD_FAILED',
    message: 'no PKCS#11 module named "other" in /opt/yubico/lib: check module-name, or give the module file in module-path',
  });
});

t.test('certificate and key URIs must agree on the module', async (t) => {
  const search = fakeSearch({});
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-path=/a.so'), uri('pkcs11:?module-path=/a.so')], search), { path: '/a.so', origin: 'module-path' });
  t.same(resolveModulePath(undefined, [uri('pkcs11:?module-path=/a.so'), uri('pkcs11:object=x')], search), { path: '/a.so', origin: 'module-path' }, 'one URI naming it is enough');
  t.throws(() => resolveModulePath(undefined, [uri('pkcs11:?module-path=/a.so'), uri('pkcs11:?module-path=/b.so')], search), {
    code: 'USAGE',
    message: 'the certificate and key URIs name different PKCS#11 modules (/a.so, /b.so): both must live on one module, or pass --pkcs11-lib',
  });
});

t.test('the system search knows the Debian multiarch, Fedora and Homebrew places', async (t) => {
  const linux = systemModuleSearch('linux', 'x64', '/home/u');
  t.equal(linux.proxyCandidates[0], '/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so');
  t.ok(linux.moduleDirs.includes('/usr/lib64/pkcs11'));
  t.equal(linux.registrationDirs[0], '/home/u/.config/pkcs11/modules');
  t.ok(linux.registrationDirs.includes('/usr/share/p11-kit/modules'));
  const arm = systemModuleSearch('linux', 'arm64', '/home/u');
  t.equal(arm.proxyCandidates[0], '/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so');
  const mac = systemModuleSearch('darwin', 'arm64', '/Users/u');
  t.ok(mac.proxyCandidates.includes('/opt/homebrew/lib/p11-kit-proxy.dylib'));
});
