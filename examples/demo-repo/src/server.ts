import { createServer } from 'node:http';
import { resolvePort } from './config.js';

const server = createServer((_request, response) => {
  response.end('ok\n');
});

server.listen(resolvePort(process.env), '127.0.0.1');
