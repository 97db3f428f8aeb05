/**
 * The floor for the serve bench: a bare node:http server that answers a token PUT with a fixed
 * token and every other request with the body `serve` sends for the credentials (read from
 * the file named on the command line), the same content type and cache header. Whatever
 * serve costs beyond this is serve's own work. Prints "listening <port>" once bound to
 * 127.0.0.1 on a free port.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const bodyFile = process.argv[2];
if (bodyFile === undefined) {
  process.stderr.write('usage: floor-server.js <body-file>\n');
  process.exit(2);
}
const body = readFileSync(bodyFile);
const token = Buffer.from('A'.repeat(64));
const server = createServer((request, response) => {
  request.resume();
  if (request.method === 'PUT') {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-aws-ec2-metadata-token-ttl-seconds': '21600', 'content-length': token.length });
    response.end(token);
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-aws-ec2-metadata-token-ttl-seconds': '21600', 'content-length': body.length });
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
