import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArchiveEntry } from './types.js';

/** Writes a target's generated files into the build's stage directory, next to rootfs/. */
export async function writeStageFiles(stageDir: string, files: readonly ArchiveEntry[]): Promise<string[]> {
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').includes('..')) throw new Error(`archive entry escapes the stage: ${f.path}`);
    const path = join(stageDir, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content, { mode: f.mode ?? 0o644 });
  }
  return files.map((f) => f.path.split('/')[0]!);
}
