import type { ConfigSources } from '../../config/sources.js';
import type { ResolvedFile, ResolvedScript } from '../../config/resolve-services.js';
import type { ResolvedSpec } from '../../config/resolve.js';
import { VmgenError } from '../../errors.js';
import type { GuestFile } from '../types.js';
import { SELF_DELETE, batchFile, batchQuote } from './batch.js';
import type { WindowsRelease } from './releases.js';

/*
 * [files] and the first-boot [scripts] of a Windows guest. Nothing runs at build time on Windows
 * (there is no Windows here to run it), so both travel with config.bat under C:\vmgen (on the
 * answer CD, or written into the base disk's volume):
 * - files\N is the Nth entry of [files]: its text, its file, or its directory tree; config.bat copies
 *   it to its Windows path (xcopy for a tree, copy for a file, from XP on) and gives it to its owner.
 * - first-logon\N.bat or .ps1 is the Nth first-boot script; config.bat registers first-logon.bat
 *   under RunOnce, so the scripts run once, in config order, at the first logon after config.bat's
 *   restart, when the computer has its new name and setup.bat has installed the apps.
 *   first-logon.log holds their output; first-logon.done records that they ran. An inline `run`
 *   is a batch file, like config.bat; a `source` script ending in .ps1 is run by PowerShell.
 */

const FILES_DIR = '/vmgen/files';
const FIRST_LOGON_DIR = '/vmgen/first-logon';
export const FIRST_LOGON_BAT = 'first-logon.bat';
/** The RunOnce value; HKLM's RunOnce runs each value once, at the next logon, and deletes it. */
const RUN_ONCE = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce';
/** The owner [files] gives when none is set: it means "as Windows makes it" (Administrators) on Windows. */
const DEFAULT_OWNER = 'root';

/** What names a file's or script's place in a comment or an echo: its id when it is plain, else its number. */
const label = (kind: string, id: string, n: number): string => (/^[A-Za-z0-9_.-]{1,40}$/.test(id) ? `${kind} ${id}` : `${kind} ${n}`);

/** A script's kind: .ps1 sources are PowerShell, everything else (inline runs, .bat, .cmd) cmd.exe. */
export function scriptKind(script: Pick<ResolvedScript, 'from'>): 'bat' | 'ps1' {
  return script.from.kind === 'source' && /\.ps1$/i.test(script.from.source) ? 'ps1' : 'bat';
}

const firstBoot = (spec: ResolvedSpec): ResolvedScript[] => spec.provision.scripts.filter((s) => s.when === 'first-boot');

/** config.bat's lines that put [files] in place. */
export function fileCopyLines(spec: ResolvedSpec, release: WindowsRelease): string[] {
  if (spec.provision.files.length === 0) return [];
  const owned = spec.provision.files.find((f) => f.owner !== DEFAULT_OWNER);
  if (owned !== undefined && !release.icacls) {
    throw new VmgenError('VMG_UNSUPPORTED', `[files] ${owned.id}: ${spec.os.label} has no icacls to give a file its owner`, { hint: 'leave owner out' });
  }
  return [...spec.provision.files.flatMap((f, i) => {
    const n = i + 1;
    const what = `path of [files] ${f.id}`;
    const dest = batchQuote(f.guestPath, what);
    const staged = `"%~dp0files\\${n}"`;
    const owner = f.owner === DEFAULT_OWNER ? [] : [
      `icacls ${dest} /setowner ${batchQuote(f.owner, `owner of [files] ${f.id}`)} /t /c /q >nul`,
      `icacls ${dest} /grant ${batchQuote(`${f.owner}:F`, `owner of [files] ${f.id}`)} /t /c /q >nul`,
    ];
    return [
      `rem ${label('[files]', f.id, n)}`,
      // The parent folder first: copy makes no folders. A FOR variable is expanded after parsing, so the path cannot inject.
      `for %%p in (${dest}) do if not exist "%%~dpp" mkdir "%%~dpp"`,
      `if exist "%~dp0files\\${n}\\" (xcopy ${staged} ${dest} /e /i /h /k /y /q >nul) else (copy /y ${staged} ${dest} >nul)`,
      `if errorlevel 1 echo vmgen: ${label('[files]', f.id, n)} was not copied`,
      ...owner,
    ];
  }),
  // The staged copies go: they may hold what only the files' owners should read.
  'rmdir /s /q "%~dp0files"'];
}

/** config.bat's line that registers the first-boot scripts, if there are any. */
export function firstLogonRegistration(spec: ResolvedSpec, windowsDirCmd: string): string[] {
  if (firstBoot(spec).length === 0) return [];
  return [`reg add "${RUN_ONCE}" /v vmgen-first-logon /t REG_SZ /d "cmd /c ${windowsDirCmd}\\${FIRST_LOGON_BAT}" /f >nul`];
}

/** first-logon.bat: runs each first-boot script once, stops at the first that fails, records success. */
export function renderFirstLogonBat(scripts: readonly ResolvedScript[]): string {
  const log = '"%~dp0first-logon.log"';
  return batchFile([
    '@echo off',
    'rem vmgen: the first-boot scripts of [scripts], run once at the first logon after config.bat.',
    'setlocal DisableDelayedExpansion',
    'cd /d "%~dp0"',
    ...scripts.flatMap((s, i) => {
      const n = i + 1;
      const file = `"%~dp0first-logon\\${n}.${scriptKind(s)}"`;
      const name = label('script', s.id, n);
      return [
        `echo vmgen: ${name} >> ${log}`,
        scriptKind(s) === 'ps1'
          ? `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File ${file} >> ${log} 2>&1`
          : `call ${file} >> ${log} 2>&1`,
        `if errorlevel 1 (echo vmgen: ${name} failed with exit code %errorlevel% >> ${log} & exit /b 1)`,
      ];
    }),
    'echo %DATE% %TIME% > "%~dp0first-logon.done"',
    'rmdir /s /q "%~dp0first-logon"',
    SELF_DELETE,
  ]);
}

/** A `run` written between triple quotes starts and ends with a line break that is no line of the script. */
const scriptLines = (text: string): string[] => text.replace(/^\r?\n/, '').replace(/\r?\n$/, '').split(/\r?\n/);

/** The guest files that need nothing but the config: inline [files], inline scripts, first-logon.bat. */
export function inlineProvisionFiles(spec: ResolvedSpec): GuestFile[] {
  const scripts = firstBoot(spec);
  return [
    ...spec.provision.files.flatMap((f, i) => (f.from.kind === 'inline' ? [{ path: `${FILES_DIR}/${i + 1}`, content: f.from.content }] : [])),
    ...scripts.flatMap((s, i) => (s.from.kind === 'inline'
      ? [{ path: `${FIRST_LOGON_DIR}/${i + 1}.bat`, content: batchFile(scriptLines(s.from.content)) }]
      : [])),
    ...(scripts.length === 0 ? [] : [{ path: `/vmgen/${FIRST_LOGON_BAT}`, content: renderFirstLogonBat(scripts) }]),
  ];
}

/** A guest file with its bytes, as the build writes it (base-disk.ts's GuestPayload). */
export interface ProvisionPayload {
  path: string;
  content: string | Uint8Array;
}

/** A name the base-disk method can write (ntfscp, base-disk.ts's GUEST_PATH) and cmd.exe copies as is. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._+-]*$/;

/** The files of one [files] source, as payload under files\N. */
function sourceFiles(f: ResolvedFile, n: number, sources: ConfigSources): ProvisionPayload[] {
  if (f.from.kind !== 'source') return [];
  const out: ProvisionPayload[] = [];
  const walk = (rel: string, guest: string): void => {
    const entry = sources.stat(rel);
    if (entry === undefined) throw new VmgenError('VMG_FILE_READ', `[files] ${f.id}: ${rel} is not beside the config`);
    if (entry.kind === 'file') {
      out.push({ path: guest, content: sources.readFile(rel) });
      return;
    }
    for (const name of sources.list(rel)) {
      if (!PLAIN_NAME.test(name)) {
        throw new VmgenError('VMG_UNSUPPORTED', `[files] ${f.id}: ${JSON.stringify(`${rel}/${name}`)} cannot go to a Windows guest`, { hint: 'name files with letters, digits, spaces and . _ + -' });
      }
      walk(`${rel}/${name}`, `${guest}/${name}`);
    }
  };
  walk(f.from.source, `${FILES_DIR}/${n}`);
  return out;
}

/** What the config's sources add to the guest: the [files] sources and the first-boot script files. */
export function sourceProvisionPayload(spec: ResolvedSpec, sources: ConfigSources | undefined): ProvisionPayload[] {
  const needs = spec.provision.files.some((f) => f.from.kind === 'source') || firstBoot(spec).some((s) => s.from.kind === 'source');
  if (!needs) return [];
  if (sources === undefined) throw new VmgenError('VMG_INTERNAL', 'the build has [files] or [scripts] sources but no directory to read them from');
  return [
    ...spec.provision.files.flatMap((f, i) => sourceFiles(f, i + 1, sources)),
    ...firstBoot(spec).flatMap((s, i) => (s.from.kind === 'source'
      ? [{ path: `${FIRST_LOGON_DIR}/${i + 1}.${scriptKind(s)}`, content: sources.readFile(s.from.source) }]
      : [])),
  ];
}
