// A webhook receiver on 127.0.0.1: records every request (headers and exact body) and answers with the status
// the test sets, 200 by default.
import http from 'node:http';

export async function startReceiver() {
  const received = [];
  let status = 200;
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'),
        status });
      response.writeHead(status, { 'Content-Type': 'text/plain' });
      response.end(status < 300 ? 'thanks' : `receiver says ${status}`);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    answer(code) {
      status = code;
    },
    // Resolves to the first request for which match is true, waiting up to timeoutMs.
    async waitFor(match, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching request reached the receiver in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
