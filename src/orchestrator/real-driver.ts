import { copyFile, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { partialArchivePath, publishArchive } from '../archive/publish.js';
import { LayerCache } from '../cache/store.js';
import { layerParts } from '../archive/layer-parts.js';
import { ChrootCommunicator } from '../communicators/chroot.js';
import { run } from '../exec/run.js';
import { applyPlan } from '../families/apply.js';
import { buildFromBaseDisk } from '../families/windows/base-disk.js';
import { buildDiskImages } from '../disks/disk-image.js';
import { ensureDiskSet, openCachedDisks, patchOpenedDisks } from '../disks/disk-cache.js';
import { readOverlayDelta } from '../disks/overlay-delta.js';
import { ensureLayer } from '../layers/ensure.js';
import { mountLayer } from '../layers/mount.js';
import { runBuildScripts } from '../layers/sandbox.js';
import type { Driver } from '../steps/driver.js';
import { checkHostTools } from './host-tools.js';

/** The driver of real builds: the cache under `cacheRoot`, real mounts, real tools. */
export function realDriver(cacheRoot: string): Driver {
  const cache = new LayerCache(cacheRoot);
  const parts = layerParts(cache);
  return {
    checkHostTools: (tools, opts) => checkHostTools(tools, opts),
    ensureLayer: (req, installer, ctx) => ensureLayer(req, {
      cache, installer, signal: ctx.signal, log: ctx.log, ...(ctx.besidePrepare ? { besidePrepare: ctx.besidePrepare } : {}),
    }),
    newWorkDir: (prefix) => cache.newWorkDir(prefix),
    makeDir: async (path) => {
      await mkdir(path, { recursive: true });
    },
    remove: (path) => rm(path, { recursive: true, force: true }),
    mountLayer: (layerRootfs, workDir, mountPoint, signal) => mountLayer(layerRootfs, workDir, mountPoint, signal),
    openCachedDisks: async (req, ctx) => {
      const common = { layout: req.layout, workDir: req.workDir, signal: ctx.signal, log: ctx.log, defer: ctx.defer };
      const { set } = await ensureDiskSet({ ...common, cache, layerKey: req.layerKey, layerRootfs: req.layerRootfs, format: req.format });
      return openCachedDisks({ ...common, set });
    },
    applyGuestPlan: (rootfs, plan, ctx) => applyPlan(new ChrootCommunicator(rootfs), plan, ctx),
    runBuildScripts: (rootfs, scripts, ctx) => runBuildScripts(rootfs, scripts, ctx),
    readOverlayDelta: (dirs) => readOverlayDelta(dirs),
    patchDisks: (opened, req, ctx) => patchOpenedDisks(opened, { ...req, signal: ctx.signal, log: ctx.log }),
    buildDisks: (ctx) => buildDiskImages(ctx),
    package: (commander, ctx) => commander.package({ ...ctx, layerParts: parts }),
    prepareArchive: async (packer, ctx) => packer.prepare?.({ ...ctx, layerParts: parts }),
    partialArchivePath: (outDir, name) => partialArchivePath(outDir, name),
    publishArchive: (partial, final) => publishArchive(partial, final),
    cloneBaseDisk: (opts) => buildFromBaseDisk(opts),
    blankDisk: async (path, bytes) => {
      await writeFile(path, '');
      await truncate(path, bytes);
    },
    writeFiles: async (dir, files) => {
      for (const f of files) {
        const dest = join(dir, f.path.slice(1));
        await mkdir(dirname(dest), { recursive: true });
        if ('source' in f) await copyFile(f.source, dest);
        else await writeFile(dest, f.content);
      }
    },
    makeIso: async (dir, iso, label, signal) => {
      await run(['xorriso', '-as', 'mkisofs', '-quiet', '-J', '-r', '-V', label, '-o', iso, dir], { signal });
    },
  };
}
