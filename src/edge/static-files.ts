import fs from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.zip': 'application/zip',
};

/** Files the edge serves itself; anything else (PHP above all) goes to WordPress. */
export function isStaticPath(urlPath: string): boolean {
  return path.extname(urlPath).toLowerCase() in TYPES;
}

/**
 * The file a URL path names under a root, or null: the path is decoded and normalised, and a
 * result outside the root (`..`) or a hidden file (`.ht.sqlite`, `.htaccess`) is refused. So is
 * a path that reaches outside the root through a symlink: installs' PHP cannot make one, but a
 * tree from elsewhere (an old install, an import) could hold one pointing at another install.
 */
export function fileUnder(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const normal = path.posix.normalize(decoded);
  if (normal.split('/').some((part) => part.startsWith('.') && part !== '')) return null;
  const full = path.join(root, normal);
  if (!full.startsWith(root + path.sep)) return null;
  let real: string;
  try {
    real = fs.realpathSync.native(full);
  } catch {
    return null;
  }
  return real.startsWith(realRoot(root) + path.sep) ? real : null;
}

const realRoots = new Map<string, string>();

/** A root's real path, remembered: roots are a few folders per install that do not move. */
function realRoot(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) {
    real = fs.realpathSync.native(root);
    if (realRoots.size >= 10_000) realRoots.clear();
    realRoots.set(root, real);
  }
  return real;
}

/** Answers from disk with type and caching headers; false when there is no such file. */
export function sendFile(
  res: ServerResponse,
  file: string,
  method: string,
  ifModifiedSince?: string,
): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const lastModified = stat.mtime.toUTCString();
  const headers = {
    'content-type': type,
    'last-modified': lastModified,
    'cache-control': 'public, max-age=604800',
    'x-content-type-options': 'nosniff',
  };
  if (
    ifModifiedSince !== undefined &&
    Date.parse(ifModifiedSince) >= Math.floor(stat.mtimeMs / 1000) * 1000
  ) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': String(stat.size) });
  if (method === 'HEAD') res.end();
  else fs.createReadStream(file).pipe(res);
  return true;
}
