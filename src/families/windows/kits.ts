import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveApp } from '../../catalog/load.js';
import type { Catalogs, WindowsKit } from '../../catalog/schema.js';
import type { KitParameters, ResolvedSpec } from '../../config/resolve.js';
import { VmgenError } from '../../errors.js';
import { SELF_DELETE, batchFile, batchQuote } from './batch.js';
import { SETUP_BAT, WINDOWS_DIR } from './configure.js';
import type { GuestFile } from '../types.js';

/*
 * The seed's InstallerWindows (Listings 4.8 and 4.9): the catalog's windows-kits entries are the
 * kit dictionary, the kits themselves are files in a directory the admin keeps (--kits DIR or
 * VMGEN_KITS_DIR), and setup.bat installs them quietly in the guest at first boot. Kit names and
 * arguments are restricted by the catalog schema to characters cmd.exe passes through unchanged.
 */

export const KITS_DIR_ENV = 'VMGEN_KITS_DIR';
/** Where the kits sit in the guest, next to setup.bat: C:\vmgen\kits. */
export const GUEST_KITS_DIR = `${WINDOWS_DIR}/kits`;

export interface WindowsAppKit {
  app: string;
  kit: WindowsKit;
  /** [kits] [[APP]]: where the app goes and what else its installer is told. */
  params?: KitParameters;
}

/** The kit of every app the spec installs, in config order (the catalog has validated them). */
export function windowsKits(spec: ResolvedSpec, catalogs: Catalogs): WindowsAppKit[] {
  return spec.apps.map((app) => {
    const r = resolveApp(catalogs, app.name, spec.os);
    if (!r.ok || r.kit === undefined) {
      throw new VmgenError('VMG_KIT_MISSING', `${app.name} has no Windows kit in the catalog${r.ok ? '' : `: ${r.reason}`}`);
    }
    const params = spec.kitParams?.[app.name];
    return { app: app.name, kit: r.kit, ...(params === undefined ? {} : { params }) };
  });
}

/**
 * One install command per kit; the seed ran a "simple" kit without args as "/S". [kits] adds the
 * install directory in each kit type's own way and the user's arguments after the catalog's.
 */
export function installLine({ app, kit, params }: WindowsAppKit): string {
  const file = `"%KITS%\\${kit.setupFile}"`;
  const spaced = (...parts: Array<string | undefined>): string => parts.filter((a) => a !== undefined && a !== '').map((a) => ` ${a}`).join('');
  const args = spaced(kit.args, params?.args);
  const dir = params?.installDir === undefined ? undefined : batchQuote(params.installDir, `install_dir of ${app}`);
  switch (kit.type) {
    case 'msi':
      // INSTALLDIR is the property most packages (WiX, InstallShield) install under; TARGETDIR is
      // the root of the Directory table, which packages without INSTALLDIR install under.
      return `msiexec /i ${file} /qn /norestart${dir === undefined ? '' : ` INSTALLDIR=${dir} TARGETDIR=${dir}`}${args}`;
    case 'simple': {
      const quiet = spaced(kit.args === undefined || kit.args === '' ? '/S' : kit.args, params?.args);
      if (params?.installDir === undefined) return `${file}${quiet}`;
      if (kit.installDir === undefined) {
        throw new VmgenError('VMG_KIT_MISSING', `the ${app} kit (${kit.setupFile}) does not say how it takes an install directory`, { hint: `remove install_dir from [kits] [[${app}]], or give the catalog entry an installDir` });
      }
      // NSIS reads /D= only as the last argument and unquoted, so the kit's form goes last as is.
      return `${file}${quiet} ${kit.installDir.replace('{dir}', dir!.slice(1, -1))}`;
    }
    case 'archive':
      // An archive is the application's folder: extracted where installers would put it.
      return `"%SEVENZIP%" x -y -o${dir ?? `"%ProgramFiles%\\${app}"`} ${file}${args}`;
  }
}

/**
 * Finds 7-Zip for the archive kits and sets SEVENZIP, on every release from XP on. XP has no
 * where.exe (it ships from Windows Server 2003 and Vista on:
 * https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/where), so:
 * 7-Zip's install folder, the 32-bit one on 64-bit Windows, then PATH through FOR's %~$PATH:I,
 * which cmd.exe has had since Windows 2000 (`for /?`;
 * https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/for). Run
 * before the first archive kit, so a 7-Zip kit installed earlier in the list is found; without
 * 7-Zip the script stops there and stays, to be run again once 7-Zip is installed.
 */
export const FIND_7ZIP: readonly string[] = [
  'set "SEVENZIP="',
  'if exist "%ProgramFiles%\\7-Zip\\7z.exe" set "SEVENZIP=%ProgramFiles%\\7-Zip\\7z.exe"',
  'if not defined SEVENZIP if defined ProgramFiles(x86) if exist "%ProgramFiles(x86)%\\7-Zip\\7z.exe" set "SEVENZIP=%ProgramFiles(x86)%\\7-Zip\\7z.exe"',
  'if not defined SEVENZIP for %%i in (7z.exe) do @if not "%%~$PATH:i"=="" set "SEVENZIP=%%~$PATH:i"',
  'if not defined SEVENZIP (echo vmgen: 7z.exe is neither in the 7-Zip folder nor on PATH; archive kits need 7-Zip & exit /b 1)',
];

/** setup.bat (seed Listing 4.9, with msiexec's fully quiet /qn), or undefined when nothing is installed. */
export function renderSetupBat(kits: readonly WindowsAppKit[]): string | undefined {
  if (kits.length === 0) return undefined;
  const files = [...new Set(kits.map((k) => k.kit.setupFile))];
  const firstArchive = kits.findIndex((k) => k.kit.type === 'archive');
  return batchFile([
    '@echo off',
    'rem vmgen: installs the applications from the kits beside this script (seed Listing 4.9),',
    'rem then deletes the kits and itself.',
    'setlocal DisableDelayedExpansion',
    'set "KITS=%~dp0kits"',
    '',
    ...kits.flatMap((k, i) => [
      ...(i === firstArchive ? FIND_7ZIP : []),
      installLine(k),
      `if errorlevel 1 echo vmgen: ${k.app} (${k.kit.setupFile}) ended with exit code %errorlevel%`,
    ]),
    '',
    ...files.map((f) => `del /q "%KITS%\\${f}"`),
    'rmdir "%KITS%"',
    SELF_DELETE,
  ]);
}

/** What the installer adds to the guest: setup.bat, when any app is wanted. */
export function windowsInstallerFiles(spec: ResolvedSpec, catalogs: Catalogs): GuestFile[] {
  const setup = renderSetupBat(windowsKits(spec, catalogs));
  return setup === undefined ? [] : [{ path: `${WINDOWS_DIR}/${SETUP_BAT}`, content: setup }];
}

export interface LocatedKit extends WindowsAppKit {
  /** The kit's file on the host. */
  source: string;
}

/**
 * Finds every kit in the admin's directory, before a build starts: all missing kits are reported
 * at once. The names are plain file names (catalog schema), so joining them cannot leave `kitsDir`.
 */
export async function locateKits(kits: readonly WindowsAppKit[], kitsDir: string | undefined): Promise<LocatedKit[]> {
  if (kits.length === 0) return [];
  if (kitsDir === undefined) {
    throw new VmgenError('VMG_KIT_MISSING', `installing ${kits.map((k) => k.app).join(', ')} needs the kit directory`, {
      hint: `pass --kits DIR or set ${KITS_DIR_ENV}`,
    });
  }
  const found: LocatedKit[] = [];
  const missing: string[] = [];
  for (const k of kits) {
    const source = join(kitsDir, k.kit.setupFile);
    const st = await stat(source).catch(() => undefined);
    if (st?.isFile() === true) found.push({ ...k, source });
    else missing.push(`${k.kit.setupFile} (for ${k.app})`);
  }
  if (missing.length > 0) {
    throw new VmgenError('VMG_KIT_MISSING', `missing in ${kitsDir}: ${missing.join(', ')}`, {
      hint: 'download the kits named in the catalog (vmgen catalog apps --os ID) into the kit directory',
    });
  }
  return found;
}
