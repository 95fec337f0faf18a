import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../archive/write.js';

/** The OVF manifest (DSP0243 §5.1): one `SHA256(FILE)= DIGEST` line per file of the package. */
export function renderManifest(files: Array<{ name: string; sha256: string }>): string {
  return files.map((f) => {
    if (/[\u0000-\u001f()]/.test(f.name) || f.name === '') throw new Error(`${JSON.stringify(f.name)} cannot be named in a manifest`);
    if (!/^[0-9a-f]{64}$/i.test(f.sha256)) throw new Error(`${f.name}: ${JSON.stringify(f.sha256)} is not a SHA-256 digest`);
    return `SHA256(${f.name})= ${f.sha256.toLowerCase()}\n`;
  }).join('');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Writes the descriptor and its manifest into `dir` and packs the OVA: a ustar archive whose first
 * member is the descriptor and second the manifest, then the files in the order References lists
 * them (DSP0243 §5.3), which both VirtualBox's streaming reader and ovftool expect.
 */
export async function writeOva(opts: { dir: string; name: string; descriptor: string; files: readonly string[]; output: string; signal: AbortSignal }): Promise<void> {
  const ovf = `${opts.name}.ovf`;
  const mf = `${opts.name}.mf`;
  await writeFile(join(opts.dir, ovf), opts.descriptor);
  const members = [ovf, ...opts.files];
  const digests = await Promise.all(members.map(async (m) => ({ name: m, sha256: await sha256File(join(opts.dir, m)) })));
  await writeFile(join(opts.dir, mf), renderManifest(digests));
  await writeArchive('ova', opts.output, opts.dir, [ovf, mf, ...opts.files], { signal: opts.signal });
}
