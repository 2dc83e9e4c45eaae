import http from 'node:http';

/**
 * GETs a path from this server's own edge over loopback HTTP with an install's Host, as a visitor
 * would: provisioning uses it to check that a new install answers its home page.
 */
export function loopbackGet(
  port: number,
  host: string,
  path: string,
  /** More request headers (`cache-control: no-cache` to pass the page cache by). */
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        headers: { ...headers, host: `${host}:${port}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
