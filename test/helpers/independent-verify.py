#!/usr/bin/env python3
"""Independent SigV4-X509 verifier, for tests only.

Written from the AWS SigV4 and IAM Roles Anywhere signing-process documentation, not from the
project's TypeScript, so that the two implementations check each other. Python standard
library plus the `openssl` command for certificate parsing and the signature check.

Input (stdin): one JSON object describing a captured HTTP request
    {"method": "POST", "path": "/sessions", "query": "a=b&c=d" (raw, as on the wire),
     "headers": {"Name": "value", ...}, "body": "...",
     "now": "20250102T030405Z" (optional: also check a 5 minute clock skew)}

    independent-verify.py               verify; prints "valid" and exits 0, or prints
                                        "invalid: <reason>" and exits 1
    independent-verify.py --canonicalize
                                        no Authorization needed; with "region" (and optional
                                        "service") in the input, prints JSON with the canonical
                                        request, string to sign, signed headers, credential
                                        scope, algorithm and certificate serial, signing every
                                        header but authorization and user-agent
Exit 2: unusable input (not JSON, missing fields) or openssl missing.
"""

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

SERVICE = 'rolesanywhere'
MAX_CHAIN = 5
MAX_SKEW_SECONDS = 300
NEVER_SIGNED = ('authorization', 'user-agent')
MUST_BE_SIGNED = ('host', 'x-amz-date', 'x-amz-x509')
# OpenSSL's "Public Key Algorithm" text for each key family, and the algorithm it implies.
ALGORITHM_FOR_KEY = {
    'rsaEncryption': 'AWS4-X509-RSA-SHA256',
    'id-ecPublicKey': 'AWS4-X509-ECDSA-SHA256',
}
# OpenSSL before 3.5 prints ML-DSA key algorithms as bare OIDs (FIPS 204, NIST CSOR).
ML_DSA_OIDS = {
    '2.16.840.1.101.3.4.3.17': 'ML-DSA-44',
    '2.16.840.1.101.3.4.3.18': 'ML-DSA-65',
    '2.16.840.1.101.3.4.3.19': 'ML-DSA-87',
}
AUTHORIZATION_FORM = re.compile(
    r'^(?P<algorithm>AWS4-X509-[A-Z0-9-]+) '
    r'Credential=(?P<credential>[^,\s]+),\s*'
    r'SignedHeaders=(?P<signed>[^,\s]+),\s*'
    r'Signature=(?P<signature>[0-9a-fA-F]+)$')
AMZ_DATE_FORM = re.compile(r'^\d{8}T\d{6}Z$')


class Invalid(Exception):
    """The request is well formed input but its signature does not hold."""


class Unusable(Exception):
    """The input itself cannot be used (exit 2)."""


def uri_encode(text):
    # RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are; hex upper case. quote() keeps
    # exactly that set when `safe` is empty (Python 3.7+ counts ~ as unreserved).
    return urllib.parse.quote(text, safe='')


def canonical_uri(path):
    # SigV4 for non-S3 services: each segment of the wire path is URI-encoded again.
    if path == '':
        return '/'
    return '/'.join(uri_encode(segment) for segment in path.split('/'))


def canonical_query(raw_query):
    pairs = []
    for part in raw_query.split('&'):
        if part == '':
            continue
        name, _, value = part.partition('=')
        # Decode what the wire carries, then encode the one canonical way.
        pairs.append((uri_encode(urllib.parse.unquote(name)), uri_encode(urllib.parse.unquote(value))))
    pairs.sort()
    return '&'.join(f'{name}={value}' for name, value in pairs)


def trimall(value):
    return re.sub(' +', ' ', value.strip(' '))


def lower_headers(headers):
    result = {}
    for name, value in headers.items():
        if not isinstance(value, str):
            raise Unusable(f'header {name} is not a string')
        lower = name.lower()
        if lower in result:
            raise Invalid(f'header {lower} appears twice')
        result[lower] = value
    return result


def canonical_request(method, path, raw_query, headers, signed_names, body):
    lines = [method.upper(), canonical_uri(path), canonical_query(raw_query)]
    header_block = ''.join(f'{name}:{trimall(headers[name])}\n' for name in signed_names)
    payload_hash = hashlib.sha256(body.encode('utf-8')).hexdigest()
    return '\n'.join(lines) + '\n' + header_block + '\n' + ';'.join(signed_names) + '\n' + payload_hash


def string_to_sign(algorithm, amz_date, scope, canonical):
    digest = hashlib.sha256(canonical.encode('utf-8')).hexdigest()
    return f'{algorithm}\n{amz_date}\n{scope}\n{digest}'


def openssl(args, workdir):
    try:
        return subprocess.run(['openssl', *args], cwd=workdir, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise Unusable('openssl is not installed') from error


def decode_certificate(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Invalid(f'{what} is not standard base64') from error


class Certificate:
    """The facts the verifier needs from one DER certificate, read by the openssl command."""

    def __init__(self, der, workdir, name, what):
        self.der_path = os.path.join(workdir, f'{name}.der')
        with open(self.der_path, 'wb') as handle:
            handle.write(der)
        serial = openssl(['x509', '-inform', 'DER', '-in', self.der_path, '-noout', '-serial'], workdir)
        if serial.returncode != 0:
            raise Invalid(f'{what} is not a DER X.509 certificate')
        self.serial = int(serial.stdout.strip().split('=', 1)[1], 16)
        text = openssl(['x509', '-inform', 'DER', '-in', self.der_path, '-noout', '-text'], workdir).stdout
        match = re.search(r'Public Key Algorithm: (\S+)', text)
        self.key_algorithm = match.group(1) if match else 'unknown'
        self.key_algorithm = ML_DSA_OIDS.get(self.key_algorithm, self.key_algorithm)
        self.public_key_path = os.path.join(workdir, f'{name}.pub.pem')
        pub = openssl(['x509', '-inform', 'DER', '-in', self.der_path, '-noout', '-pubkey', '-out', self.public_key_path], workdir)
        if pub.returncode != 0:
            if not self.key_algorithm.startswith('ML-DSA'):
                raise Invalid(f'the public key of {what} cannot be read')
            # Canonicalization still works; only a signature check needs OpenSSL 3.5.
            self.public_key_path = None

    def algorithm(self):
        if self.key_algorithm.startswith('ML-DSA'):
            return 'AWS4-X509-MLDSA'
        return ALGORITHM_FOR_KEY.get(self.key_algorithm)


def verify_signature(certificate, message, signature, workdir):
    message_path = os.path.join(workdir, 'string-to-sign')
    signature_path = os.path.join(workdir, 'signature')
    with open(message_path, 'wb') as handle:
        handle.write(message)
    with open(signature_path, 'wb') as handle:
        handle.write(signature)
    if certificate.key_algorithm == 'rsaEncryption':
        # PKCS#1 v1.5 only: the service never accepts PSS here.
        args = ['dgst', '-sha256', '-verify', certificate.public_key_path,
                '-sigopt', 'rsa_padding_mode:pkcs1', '-signature', signature_path, message_path]
    elif certificate.key_algorithm == 'id-ecPublicKey':
        # OpenSSL takes only DER ECDSA signatures and rejects non-canonical encodings.
        args = ['dgst', '-sha256', '-verify', certificate.public_key_path, '-signature', signature_path, message_path]
    elif certificate.public_key_path is None:
        raise Unusable(f'this OpenSSL cannot load {certificate.key_algorithm} keys: verifying ML-DSA needs OpenSSL 3.5 or later')
    else:
        # Pure ML-DSA over the message itself (needs OpenSSL 3.5 or later).
        args = ['pkeyutl', '-verify', '-pubin', '-inkey', certificate.public_key_path, '-rawin',
                '-in', message_path, '-sigfile', signature_path]
    return openssl(args, workdir).returncode == 0


def parse_amz_date(value, what):
    if not AMZ_DATE_FORM.match(value):
        raise Invalid(f'{what} "{value}" is not YYYYMMDDTHHMMSSZ')
    try:
        return datetime.datetime.strptime(value, '%Y%m%dT%H%M%SZ').replace(tzinfo=datetime.timezone.utc)
    except ValueError as error:
        raise Invalid(f'{what} "{value}" is not a real date and time') from error


def read_request(text):
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        raise Unusable(f'input is not JSON: {error}') from error
    if not isinstance(request, dict):
        raise Unusable('input is not a JSON object')
    for field, kind in (('method', str), ('path', str), ('query', str), ('headers', dict), ('body', str)):
        if not isinstance(request.get(field), kind):
            raise Unusable(f'input field "{field}" is missing or not a {kind.__name__}')
    return request


def load_certificates(headers, workdir):
    if 'x-amz-x509' not in headers:
        raise Invalid('no X-Amz-X509 header')
    leaf = Certificate(decode_certificate(headers['x-amz-x509'], 'X-Amz-X509'), workdir, 'leaf', 'X-Amz-X509')
    if 'x-amz-x509-chain' in headers:
        parts = headers['x-amz-x509-chain'].split(',')
        if len(parts) > MAX_CHAIN:
            raise Invalid(f'X-Amz-X509-Chain has {len(parts)} certificates, more than {MAX_CHAIN}')
        for index, part in enumerate(parts):
            Certificate(decode_certificate(part, f'X-Amz-X509-Chain entry {index + 1}'), workdir,
                        f'chain{index}', f'X-Amz-X509-Chain entry {index + 1}')
    return leaf


def verify(request, workdir):
    headers = lower_headers(request['headers'])
    if 'authorization' not in headers:
        raise Invalid('no Authorization header')
    match = AUTHORIZATION_FORM.match(headers['authorization'])
    if not match:
        raise Invalid('Authorization header is not "<algorithm> Credential=..., SignedHeaders=..., Signature=..."')
    algorithm = match.group('algorithm')
    credential = match.group('credential').split('/')
    if len(credential) != 5:
        raise Invalid('Credential is not serial/date/region/service/aws4_request')
    serial, scope_date, region, service, terminator = credential
    if not serial.isdigit():
        raise Invalid(f'Credential serial "{serial}" is not a decimal number')
    if terminator != 'aws4_request':
        raise Invalid(f'credential scope ends in "{terminator}", not aws4_request')
    if service != SERVICE:
        raise Invalid(f'credential scope service is "{service}", not {SERVICE}')

    signed_names = match.group('signed').split(';')
    if signed_names != sorted(set(signed_names)):
        raise Invalid('SignedHeaders is not sorted and free of duplicates')
    for name in signed_names:
        if name != name.lower():
            raise Invalid(f'signed header name {name} is not lower case')
        if name in NEVER_SIGNED:
            raise Invalid(f'{name} must not be a signed header')
        if name not in headers:
            raise Invalid(f'signed header {name} is not in the request')
    required = list(MUST_BE_SIGNED) + (['x-amz-x509-chain'] if 'x-amz-x509-chain' in headers else [])
    for name in required:
        if name not in signed_names:
            raise Invalid(f'{name} is not signed')

    amz_date = headers['x-amz-date']
    signed_at = parse_amz_date(amz_date, 'X-Amz-Date')
    if scope_date != amz_date[:8]:
        raise Invalid(f'credential scope date {scope_date} is not the date of X-Amz-Date {amz_date}')
    if 'now' in request:
        now = parse_amz_date(request['now'], 'now')
        if abs((now - signed_at).total_seconds()) > MAX_SKEW_SECONDS:
            raise Invalid(f'X-Amz-Date {amz_date} is more than {MAX_SKEW_SECONDS} seconds from now')

    body_hash = hashlib.sha256(request['body'].encode('utf-8')).hexdigest()
    if 'x-amz-content-sha256' in headers and headers['x-amz-content-sha256'] != body_hash:
        raise Invalid('x-amz-content-sha256 does not match the body')

    leaf = load_certificates(headers, workdir)
    expected_algorithm = leaf.algorithm()
    if expected_algorithm is None:
        raise Invalid(f'certificate key algorithm {leaf.key_algorithm} is not supported')
    if algorithm != expected_algorithm:
        raise Invalid(f'algorithm {algorithm} does not fit the certificate key ({leaf.key_algorithm})')
    if int(serial) != leaf.serial:
        raise Invalid(f'Credential serial {serial} is not the certificate serial {leaf.serial}')

    canonical = canonical_request(request['method'], request['path'], request['query'], headers, signed_names, request['body'])
    scope = f'{scope_date}/{region}/{service}/aws4_request'
    message = string_to_sign(algorithm, amz_date, scope, canonical).encode('utf-8')
    if not verify_signature(leaf, message, bytes.fromhex(match.group('signature')), workdir):
        raise Invalid('signature does not verify with the certificate public key')


def canonicalize(request, workdir):
    if not isinstance(request.get('region'), str):
        raise Unusable('input field "region" is missing')
    service = request.get('service', SERVICE)
    headers = lower_headers(request['headers'])
    if 'x-amz-date' not in headers:
        raise Unusable('input has no x-amz-date header')
    leaf = load_certificates(headers, workdir)
    algorithm = leaf.algorithm()
    if algorithm is None:
        raise Unusable(f'certificate key algorithm {leaf.key_algorithm} is not supported')
    signed_names = sorted(name for name in headers if name not in NEVER_SIGNED)
    canonical = canonical_request(request['method'], request['path'], request['query'], headers, signed_names, request['body'])
    amz_date = headers['x-amz-date']
    scope = f'{amz_date[:8]}/{request["region"]}/{service}/aws4_request'
    return {
        'algorithm': algorithm,
        'serialDecimal': str(leaf.serial),
        'credentialScope': scope,
        'signedHeaders': ';'.join(signed_names),
        'canonicalRequest': canonical,
        'stringToSign': string_to_sign(algorithm, amz_date, scope, canonical),
    }


def main(argv):
    mode = argv[1] if len(argv) > 1 else '--verify'
    if mode not in ('--verify', '--canonicalize'):
        print(f'usage: {argv[0]} [--verify|--canonicalize] < request.json', file=sys.stderr)
        return 2
    try:
        request = read_request(sys.stdin.read())
        with tempfile.TemporaryDirectory(prefix='independent-verify-') as workdir:
            if mode == '--canonicalize':
                print(json.dumps(canonicalize(request, workdir)))
                return 0
            verify(request, workdir)
    except Unusable as error:
        print(f'unusable input: {error}', file=sys.stderr)
        return 2
    except Invalid as error:
        print(f'invalid: {error}')
        return 1
    print('valid')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
