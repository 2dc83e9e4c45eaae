import fs from 'node:fs';
import path from 'node:path';
import { __private__dont__use, type MountHandler, type PHP } from '@php-wasm/universal';

/*
 * php-wasm gives PHP the host's files through Emscripten's NODEFS, which does whatever PHP asks
 * with the server's rights (root, on many hosts). Two holes follow: the shared release, mounted
 * for every install of it, is writable by each (one tenant could rewrite another's WordPress),
 * and `symlink()` writes a host symlink with any target, which PHP cannot follow (Emscripten
 * resolves links inside its own tree) but the host can: the edge's static files or a backup would
 * read another install's files through it. So this module patches the runtime's NODEFS: a mount
 * made with `readOnly` refuses every change (EROFS), and no mount creates symlinks (EPERM).
 */

const EPERM = 63;
const EROFS = 69;
/** O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, as Emscripten numbers them. */
const WRITE_FLAGS = 1 | 2 | 64 | 512 | 1024;

interface FsNode {
  mount: { opts: { root: string; readOnly?: boolean } };
}
interface FsStream {
  node: FsNode;
  flags: number;
}
type Op = (...args: never[]) => unknown;
interface NodeFsOps {
  node_ops: Record<string, Op>;
  stream_ops: Record<string, Op>;
}
interface EmscriptenFs {
  ErrnoError: new (errno: number) => Error;
  filesystems: { NODEFS: NodeFsOps & { sandboxed?: boolean } };
  mount(type: unknown, opts: { root: string; readOnly: boolean }, mountpoint: string): unknown;
  unmount(mountpoint: string): void;
  mkdirTree(path: string): void;
  writeFile(path: string, data: string): void;
  analyzePath(path: string): { exists: boolean };
}

function fsOf(php: PHP): EmscriptenFs {
  const runtime = (php as unknown as Record<symbol, { FS: EmscriptenFs }>)[__private__dont__use];
  if (runtime === undefined) throw new Error('the PHP runtime is not loaded');
  return runtime.FS;
}

/** Wraps one NODEFS operation so that it fails with `errno` when `refused` says so. */
function guard(
  ops: Record<string, Op>,
  name: string,
  FS: EmscriptenFs,
  refused: (...args: never[]) => number | null,
): void {
  const original = ops[name];
  if (original === undefined) throw new Error(`NODEFS has no ${name}: php-wasm changed`);
  ops[name] = (...args: never[]): unknown => {
    const errno = refused(...args);
    if (errno !== null) throw new FS.ErrnoError(errno);
    return original(...args);
  };
}

const readOnly = (node: FsNode): number | null =>
  node.mount.opts.readOnly === true ? EROFS : null;

/** Makes this PHP's NODEFS honour read-only mounts and refuse symlinks. Call before mounting. */
export function sandboxFilesystem(php: PHP): void {
  const FS = fsOf(php);
  const nodefs = FS.filesystems.NODEFS;
  if (nodefs.sandboxed === true) return;
  const { node_ops: node, stream_ops: stream } = nodefs;
  // Changes to a directory's entries are checked on the directory (the parent).
  for (const op of ['mknod', 'unlink', 'rmdir']) guard(node, op, FS, readOnly);
  guard(node, 'rename', FS, (from: FsNode, dir: FsNode) => readOnly(from) ?? readOnly(dir));
  guard(node, 'setattr', FS, readOnly);
  guard(node, 'symlink', FS, () => EPERM);
  guard(stream, 'open', FS, (s: FsStream) =>
    (s.flags & WRITE_FLAGS) === 0 ? null : readOnly(s.node),
  );
  guard(stream, 'write', FS, (s: FsStream) => readOnly(s.node));
  guard(stream, 'setattr', FS, (s: FsStream) => readOnly(s.node));
  nodefs.sandboxed = true;
}

/**
 * Mounts a host file or directory that PHP may read but never change (with `sandboxFilesystem`
 * applied): as @php-wasm/node's createNodeFsMountHandler, plus the read-only mark.
 */
export function readOnlyMount(hostPath: string): MountHandler {
  return (php, _FS, mountpoint) => {
    const FS = fsOf(php);
    if (!FS.analyzePath(mountpoint).exists) {
      if (fs.statSync(hostPath).isDirectory()) FS.mkdirTree(mountpoint);
      else {
        FS.mkdirTree(path.posix.dirname(mountpoint));
        FS.writeFile(mountpoint, '');
      }
    }
    FS.mount(FS.filesystems.NODEFS, { root: hostPath, readOnly: true }, mountpoint);
    return () => {
      FS.unmount(mountpoint);
    };
  };
}
