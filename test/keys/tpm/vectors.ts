/**
 * Real TSS2 PRIVATE KEY files made by tpm2-openssl 1.1.1 (openssl genpkey -provider tpm2) on a
 * throwaway swtpm, with the public keys openssl printed for them. The private blobs are
 * encrypted to that simulator's (deleted) seed: nothing secret, and nothing loads them elsewhere.
 */

export const tpm2OpensslEcP256KeyPem = `-----BEGIN TSS2 PRIVATE KEY-----
MIHwBgZngQUKAQOgAwEBAQIEQAAAAQRYAFYAIwALAAYAcgAAABAAEAADABAAIGit
vIkCkQBqjUUiTAwMr7b+QbmmuS0DNAI8aeCku4Q0ACA/Y4CzDOhMFoL88Sq+1nUe
4C7tG8GIAfYFrXkR4IloCgSBgAB+ACDR+tHivaXbghEPNA3AwUgf99Eu6y17vpDa
5b1mRKQGIAAQRiVQSezODp2P+JebdfpSnZDWgl0S5E5yz6pCorxeGY7BrhUAArox
TzUn2Wt5phnwMc8ZqvmCc84B3av9iuvzrTM389wKx6yUKonBwAjiwys2ONNY0W0/
P0Rz
-----END TSS2 PRIVATE KEY-----
`;

export const tpm2OpensslEcP256PublicPem = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaK28iQKRAGqNRSJMDAyvtv5Buaa5
LQM0Ajxp4KS7hDQ/Y4CzDOhMFoL88Sq+1nUe4C7tG8GIAfYFrXkR4IloCg==
-----END PUBLIC KEY-----
`;

export const tpm2OpensslEcP256PasswordKeyPem = `-----BEGIN TSS2 PRIVATE KEY-----
MIHwBgZngQUKAQOgAwEBAAIEQAAAAQRYAFYAIwALAAYAcgAAABAAEAADABAAIMD6
PIyZppSZRiG7X0focX2A9u//aFTZ+VqijkIMxtgUACAcu5SDshJHHSVY8bc1PtTl
+yLSeOBO+sUYtljpDyn3lASBgAB+ACCNG3XPyIsHeyUkfccPDt2BIxPesYYqEc6L
bUByfD9GwAAQzu/GbFoh8+RZ8OfD11wpxW5Y2nHgTQL6RWI7wkMk3i/qoDc3TWmK
Bx+a6U2DK7QFoHZRA3Vlc2IVIZyy0cPLHHI4GxUnMrNuX/ZRbA+jAMn2GznjZiiF
ODQZ
-----END TSS2 PRIVATE KEY-----
`;

export const tpm2OpensslEcP256PasswordPublicPem = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwPo8jJmmlJlGIbtfR+hxfYD27/9o
VNn5WqKOQgzG2BQcu5SDshJHHSVY8bc1PtTl+yLSeOBO+sUYtljpDyn3lA==
-----END PUBLIC KEY-----
`;

export const tpm2OpensslRsa2048KeyPem = `-----BEGIN TSS2 PRIVATE KEY-----
MIICEgYGZ4EFCgEDoAMBAQECBEAAAAEEggEYARYAAQALAAYAcgAAABAAEAgAAAAA
AAEArmsDYYPGcl+lkPWPmFdacMr6Hml4w3trt6g1SRr/vpwJAjuGhH0yyqXWhQPf
cefLYFiA36aDsS4t+h1MKHldmUUWQpIRoRy0miD6EiQ/uK/ISC9jukM8mAXiFxkx
DBavrQKxN686gzNdAFMAGp/PAAGJfhzeI0ugIR+qwvOvFQxqDqr4awH5Fm3KYkxd
0cOJKzO3sM1RTQAOjxg6TZMuwssFfUej5NKUFe4itT3pcUljq5IUuwBAhZsFTVKM
7PxdDoPIHf8ITe5UvOs0fvGEFjSvmtKu4g45SKG5rDg0BRzgsWhXgA2CqZqRBoJ4
mad9vykixysmkSz4onmLUOmb/wSB4ADeACDQ+GRawJHxGfLoxQVaG7l8krHBDzuX
V8XGICs0dHQc0QAQTEl00DVM+EuVa+vvBfzbMfbE6lVVc2zxWT5/80wCaQiyn4P9
SMA+jeV7CJAgn0KImZanm/6DuUrCvCLLwg/hdZFrVgItJTai6A62dsY/P9C6LYrl
li8MHqn2vXoynO2nDXmJ2WhDexeQOCKL4L77jJkEn6QsySNLQ6IIwAsPvIyJ7Mid
OMm+UPbVPH492lVEDK/ajJoXoCQRsVxB8JpLB9RZWTrludpAFYkrm6Kfu7OF1IH3
M/dj71Vl
-----END TSS2 PRIVATE KEY-----
`;

export const tpm2OpensslRsa2048PublicPem = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArmsDYYPGcl+lkPWPmFda
cMr6Hml4w3trt6g1SRr/vpwJAjuGhH0yyqXWhQPfcefLYFiA36aDsS4t+h1MKHld
mUUWQpIRoRy0miD6EiQ/uK/ISC9jukM8mAXiFxkxDBavrQKxN686gzNdAFMAGp/P
AAGJfhzeI0ugIR+qwvOvFQxqDqr4awH5Fm3KYkxd0cOJKzO3sM1RTQAOjxg6TZMu
wssFfUej5NKUFe4itT3pcUljq5IUuwBAhZsFTVKM7PxdDoPIHf8ITe5UvOs0fvGE
FjSvmtKu4g45SKG5rDg0BRzgsWhXgA2CqZqRBoJ4mad9vykixysmkSz4onmLUOmb
/wIDAQAB
-----END PUBLIC KEY-----
`;

export const tpm2OpensslEcP256UnderPersistentKeyPem = `-----BEGIN TSS2 PRIVATE KEY-----
MIHxBgZngQUKAQOgAwEBAQIFAIEAAAEEWABWACMACwAGAHIAAAAQABAAAwAQACBj
2cmHx8HuZNEmsghLsURzcUMWoE18iJyBUQ1Y+zykSgAgQHpf672v+xgMWf5Mfb+q
tTC/AI22rgiuqkChQt6Xp7wEgYAAfgAgC6XLXUuCqrIjEEqXw41wN2oNTkxHVgUx
q0l18fRLNvgAEMrV6Hdwa9RLB/5V6stTUPxslkBzqY7JjrzjA2ehDh/tRmPh5ws5
p9Kwehfh+raul+2YNDNW0C5EqI3jsry5AVdJBoL+v02fjVb4vEomhcRUzOVQ3FQr
oRBaAQ==
-----END TSS2 PRIVATE KEY-----
`;

export const tpm2OpensslEcP256UnderPersistentPublicPem = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY9nJh8fB7mTRJrIIS7FEc3FDFqBN
fIicgVENWPs8pEpAel/rva/7GAxZ/kx9v6q1ML8AjbauCK6qQKFC3penvA==
-----END PUBLIC KEY-----
`;

/*
 * Wire bytes recorded from tpm2-tools 5.4 talking to swtpm 0.7.1 (swtpm --log level=20), for
 * known-answer tests of the marshalling. The signing key was an ECC P-256 key made with
 * `tpm2_create -G ecc256`; the digest is SHA-256("abc").
 */

/** TPM2_ReadPublic response for that signing key: TPM2B_PUBLIC, name, qualifiedName. */
export const tpm2ToolsReadPublicEcResponseHex =
  '8001000000aa0000000000560023000b000400720000001000100003001000203f791f7c7376566d22e3ab2698b44caa00d6ecd51da1e715b7f65b8532d12674002043a12804ce4495d851fc8678ebedaaa3b2f54281467463e6024b79dfa152bb050022000b9de1add6a15f83313901d24abba76933b13862f9341d7d8202fe956bc9595e0a0022000b36184526b70d58283ed96acf3fa9fcd9a74b36c9bd5bfb209cff28753c27c248';

/** TPM2_Sign command (HMAC session) with ECDSA/SHA-256 and the NULL ticket. */
export const tpm2ToolsSignEcCommandHex =
  '8002000000890000015d800000000000004902000000002032be5919f91360fd657821a38c268448f8ad7397259d54b87dd0947b5d66db22010020415c847986c92579fa22ba31aa325f03048ee805c9a5da7900b9f3a7c5c8925b0020ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0018000b8024400000070000';

/** Its response: parameterSize, TPMT_SIGNATURE (ECDSA, SHA-256, r, s), then the session area. */
export const tpm2ToolsSignEcResponseHex =
  '80020000009b00000000000000480018000b0020c9e1cbb6e8dca9ff9cc1cd1915ad8c26116b8c71a15a811453ec6e363b2137d40020a17c1a15a8d795313fa4839bc44cba0fa2c5b32ad6af8a990e8cd98d415208af00207cabaeb31e836f38921995ac05f590282c4e285e0658e5a0cd6e8adf0b73bfd501002069e4f559cf1cef62a0e2c08e9224789552e495ab7de3d58021252d84ac6156b4';

export const sha256OfAbcHex = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/**
 * The parameter area tpm2_createprimary sent for
 * `-C o -G ecc256:aes128cfb -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt'`:
 * empty TPM2B_SENSITIVE_CREATE, the ECC P-256 storage template, no outside info, no PCRs.
 */
export const tpm2ToolsCreatePrimaryEccStorageParametersHex =
  '000400000000' + '001a0023000b00030472000000060080004300100003001000000000' + '0000' + '00000000';

/** TPM2_GetCapability(TPM_CAP_HANDLES, 0x80000000, 254) as tpm2_getcap handles-transient sends it. */
export const tpm2ToolsGetCapabilityTransientCommandHex = '8001000000160000017a00000001800000000000' + '00fe';

/** Its response with one transient object loaded (0x80000000). */
export const tpm2ToolsGetCapabilityTransientResponseHex = '80010000001700000000' + '00' + '00000001' + '00000001' + '80000000';

/** TPM2_FlushContext(0x80000000). */
export const tpm2ToolsFlushContextCommandHex = '80010000000e0000016580000000';
