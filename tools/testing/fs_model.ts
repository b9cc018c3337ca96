/*
 * tools/testing/fs_model.ts - the reference model of a tmpfs tree that the
 * fs tests and the fuzzer check the kernel against: directories, names,
 * file sizes and contents, and open file descriptions with their positions.
 *
 * No Linux counterpart (what xfstests' fsx keeps beside the file it
 * tortures: a "good buffer" the file must equal). Moved here from
 * tests/fs/integrity_model.ts so tools/testing/asi_fuzz.ts feeds the same
 * model. Files are sparse (4 KiB pages held only where written), since a
 * fuzzed ftruncate() or pwrite() may put the size at 2^40; holes read as
 * zeros. Simplified: no permissions, links, times or rename; paths are
 * absolute (or relative to the root, which is every task's cwd here).
 */

const PAGE = 4096;

/** A regular file: its size and the bytes of the pages ever written (others are zero). */
export class MFile {
  readonly kind = 'file' as const;
  size = 0;
  /** page index -> its 4096 bytes; only pages below size are kept. */
  readonly pages = new Map<number, Uint8Array>();

  /** Set the size; bytes beyond a smaller size are dropped (they read as zero after regrowth). */
  resize(n: number): void {
    if (n < this.size) {
      for (const idx of [...this.pages.keys()]) {
        if (idx * PAGE >= n) this.pages.delete(idx);
        else if ((idx + 1) * PAGE > n) this.pages.get(idx)!.fill(0, n - idx * PAGE);
      }
    }
    this.size = n;
  }

  /** Write `bytes` at `pos`, growing the size if they end beyond it. */
  write(pos: number, bytes: Uint8Array): void {
    if (pos + bytes.length > this.size) this.size = pos + bytes.length;
    let at = 0;
    while (at < bytes.length) {
      const idx = Math.floor((pos + at) / PAGE);
      const off = (pos + at) - idx * PAGE;
      const n = Math.min(PAGE - off, bytes.length - at);
      let p = this.pages.get(idx);
      if (!p) this.pages.set(idx, (p = new Uint8Array(PAGE)));
      p.set(bytes.subarray(at, at + n), off);
      at += n;
    }
  }

  /** Zero [pos, pos + len) inside the size (a punched hole). */
  zero(pos: number, len: number): void {
    const end = Math.min(this.size, pos + len);
    for (const [idx, p] of this.pages) {
      const s = Math.max(pos, idx * PAGE), e = Math.min(end, (idx + 1) * PAGE);
      if (s < e) p.fill(0, s - idx * PAGE, e - idx * PAGE);
    }
  }

  /** What read(pos, len) returns: min(len, size - pos) bytes, or none at or past EOF. */
  read(pos: number, len: number): Uint8Array {
    const n = Math.max(0, Math.min(len, this.size - pos));
    const out = new Uint8Array(n);
    for (let at = 0; at < n;) {
      const idx = Math.floor((pos + at) / PAGE);
      const off = (pos + at) - idx * PAGE;
      const k = Math.min(PAGE - off, n - at);
      const p = this.pages.get(idx);
      if (p) out.set(p.subarray(off, off + k), at);
      at += k;
    }
    return out;
  }
}

/** A directory: its entries by name. */
export class MDir {
  readonly kind = 'dir' as const;
  readonly children = new Map<string, MNode>();
}

export type MNode = MFile | MDir;

/** An open file description (struct file): shared by dup'd, forked and CLONE_FILES fds. */
export interface MOfd {
  node: MNode;
  pos: number;
  flags: number;
}

/** The model's tree, rooted at "/". */
export class FsModel {
  readonly root = new MDir();

  /** The components of `path` ('' is no name at all: null, as the kernel's -ENOENT). */
  static split(path: string): string[] | null {
    if (path === '') return null;
    const out: string[] = [];
    for (const c of path.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') out.pop();
      else out.push(c);
    }
    return out;
  }

  /** The node at `path`, or null. */
  lookup(path: string): MNode | null {
    const parts = FsModel.split(path);
    if (!parts) return null;
    let n: MNode = this.root;
    for (const c of parts) {
      if (n.kind !== 'dir') return null;
      const next = n.children.get(c);
      if (!next) return null;
      n = next;
    }
    return n;
  }

  /** The directory that holds `path`'s last component, and that name; null if there is none. */
  parent(path: string): { dir: MDir; name: string } | null {
    const parts = FsModel.split(path);
    if (!parts || !parts.length) return null;
    const name = parts.pop()!;
    const dir = this.lookup('/' + parts.join('/'));
    return dir && dir.kind === 'dir' ? { dir, name } : null;
  }

  /** Create an empty file at `path` (the caller checked it is absent); null if the parent is missing. */
  create(path: string): MFile | null {
    const p = this.parent(path);
    if (!p || p.dir.children.has(p.name)) return null;
    const f = new MFile();
    p.dir.children.set(p.name, f);
    return f;
  }

  /** mkdir: false if the parent is missing or the name exists. */
  mkdir(path: string): boolean {
    const p = this.parent(path);
    if (!p || p.dir.children.has(p.name)) return false;
    p.dir.children.set(p.name, new MDir());
    return true;
  }

  /** unlink: false unless `path` names a file (open descriptions keep it). */
  unlink(path: string): boolean {
    const p = this.parent(path);
    if (!p || p.dir.children.get(p.name)?.kind !== 'file') return false;
    p.dir.children.delete(p.name);
    return true;
  }

  /** Every file in the tree, by absolute path. */
  files(): [string, MFile][] {
    const out: [string, MFile][] = [];
    const walk = (d: MDir, at: string): void => {
      for (const [name, n] of d.children) {
        if (n.kind === 'dir') walk(n, `${at}/${name}`);
        else out.push([`${at}/${name}`, n]);
      }
    };
    walk(this.root, '');
    return out;
  }
}
