import assert from 'node:assert/strict';
import { includesAll, includesNone, isInstance, show } from '../helpers/assert-values.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { resolveSpec, type ResolvedSpec } from '../../src/config/resolve.js';
import { VmgenError } from '../../src/errors.js';
import { installerFor } from '../../src/installers/registry.js';
import { FAMILIES } from '../../src/families/registry.js';
import {
  FIND_7ZIP, KITS_DIR_ENV, locateKits, renderSetupBat, windowsInstallerFiles, windowsKits,
} from '../../src/families/windows/kits.js';
import { assertGolden } from '../helpers/golden.js';

const catalogs = loadCatalogs({ env: {} });

function windowsSpec(name: string): ResolvedSpec {
  const loaded = loadConfig(readFileSync(fileURLToPath(new URL(`../fixtures/windows/${name}`, import.meta.url)), 'utf8'), { catalogs });
  if (loaded.config === undefined) throw new Error(`${name} does not load: ${JSON.stringify(loaded.diagnostics)}`);
  return resolveSpec(loaded.config, catalogs, { target: 'vmware', defaultMirror: 'http://mirror.example/debian' });
}

describe('Windows kit installer: setup.bat (seed Listings 4.8, 4.9)', () => {
  it('takes each app\'s kit from the catalog, in config order', () => {
    const kits = windowsKits(windowsSpec('winxp-seed.conf'), catalogs);
    assert.deepEqual(kits.map((k) => [k.app, k.kit.type, k.kit.setupFile]), [
      ['python', 'msi', 'python-setup.msi'],
      ['emacs', 'archive', 'emacs.zip'],
      ['ftp-server', 'simple', 'FileZilla_Server-setup.exe'],
      ['svn', 'msi', 'TortoiseSVN-setup.msi'],
      ['git', 'simple', 'Git-setup.exe'],
      ['mozilla-thunderbird', 'simple', 'ThunderbirdSetup.exe'],
    ]);
  });

  it('the seed sample: msiexec /i … /qn, simple kits with their quiet switches, archives with 7-Zip (golden)', () => {
    const spec = windowsSpec('winxp-seed.conf');
    const bat = renderSetupBat(windowsKits(spec, catalogs))!;
    assertGolden('windows/winxp/setup.bat', bat);
    const l = bat.split('\r\n');
    includesAll(l, ['msiexec /i "%KITS%\\python-setup.msi" /qn /norestart', 'msiexec /i "%KITS%\\TortoiseSVN-setup.msi" /qn /norestart ADDLOCAL=ALL', '"%KITS%\\Git-setup.exe" /VERYSILENT /NORESTART']);
    assert.ok(l.includes('"%KITS%\\ThunderbirdSetup.exe" -ms'), 'Listing 4.9, line 3');
    assert.ok(l.includes('"%SEVENZIP%" x -y -o"%ProgramFiles%\\emacs" "%KITS%\\emacs.zip"'), 'archives are unpacked by the 7-Zip found');
    assert.deepEqual(l.slice(l.indexOf(FIND_7ZIP[0]!), l.indexOf(FIND_7ZIP[0]!) + FIND_7ZIP.length + 1), [...FIND_7ZIP, '"%SEVENZIP%" x -y -o"%ProgramFiles%\\emacs" "%KITS%\\emacs.zip"'], 'the search for 7-Zip comes right before the first archive kit');
    assert.ok(l.includes('del /q "%KITS%\\python-setup.msi"'), 'kits are deleted after installing');
    assert.ok(l.indexOf('del /q "%KITS%\\python-setup.msi"') > l.indexOf('msiexec /i "%KITS%\\python-setup.msi" /qn /norestart'), show(l));
    assert.ok(bat.endsWith('(goto) 2>nul & del "%~f0"\r\n'), show(bat.slice(-60)));
    assert.deepEqual(windowsInstallerFiles(spec, catalogs).map((f) => f.path), ['/vmgen/setup.bat']);
  });

  /*
   * XP has no where.exe: it ships from Windows Server 2003 and Vista on
   * (https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/where), so
   * a `where` in setup.bat fails on XP whatever is installed, and every archive kit with it. What
   * the script uses instead is cmd.exe of Windows 2000 and XP: `if exist`, `if defined` and FOR's
   * %~$PATH:I, which searches PATH for a file name
   * (https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/for).
   */
  it('finds 7-Zip without where.exe, which XP lacks: install folders, then PATH through FOR', () => {
    const bat = renderSetupBat(windowsKits(windowsSpec('winxp-seed.conf'), catalogs))!;
    assert.doesNotMatch(bat, /\bwhere(\.exe)?\b/i, 'no where.exe in XP\'s setup.bat');
    const tokens = bat.split('\r\n').flatMap((x) => (x.startsWith('rem ') ? [] : x.split(/[\s()&|@]+/)));
    for (const command of ['where', 'where.exe', 'powershell', 'choice', 'timeout']) assert.ok(!tokens.some((x) => x.toLowerCase() === command), `${command} is not on XP`);
    assert.ok(FIND_7ZIP.includes('if exist "%ProgramFiles%\\7-Zip\\7z.exe" set "SEVENZIP=%ProgramFiles%\\7-Zip\\7z.exe"'), '7-Zip\'s own install folder first');
    assert.ok(FIND_7ZIP.includes('if not defined SEVENZIP for %%i in (7z.exe) do @if not "%%~$PATH:i"=="" set "SEVENZIP=%%~$PATH:i"'), 'then PATH, through FOR');
    assert.match(FIND_7ZIP.at(-1)!, /^if not defined SEVENZIP \(echo vmgen: .* & exit \/b 1\)$/);
    // Inside ( … ) a ")" in the message would end the block early.
    assert.doesNotMatch(FIND_7ZIP.at(-1)!.slice('if not defined SEVENZIP ('.length, -1), /[()]/);
  });

  it('a simple kit without arguments gets the seed\'s /S; no archive, no 7-Zip check', () => {
    const bat = renderSetupBat([{ app: 'vim', kit: { type: 'simple', setupFile: 'gvim-setup.exe' } }])!;
    includesAll(bat.split('\r\n'), ['"%KITS%\\gvim-setup.exe" /S']);
    includesNone(bat, ['7z.exe']);
    assertGolden('windows/win10/setup.bat', renderSetupBat(windowsKits(windowsSpec('win10.conf'), catalogs))!);
  });

  it('no apps: no setup.bat', () => {
    assert.equal(renderSetupBat([]), undefined);
    assert.deepEqual(windowsInstallerFiles({ ...windowsSpec('winxp-seed.conf'), apps: [] }, catalogs), []);
  });

  it('finds every kit in the admin\'s directory before the build, and names all the missing ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmgen-kits-'));
    try {
      const kits = windowsKits(windowsSpec('winxp-seed.conf'), catalogs);
      writeFileSync(join(dir, 'python-setup.msi'), 'msi');
      writeFileSync(join(dir, 'emacs.zip'), 'zip');
      mkdirSync(join(dir, 'Git-setup.exe')); // a directory is not a kit
      await assert.rejects(locateKits(kits, dir), (err: unknown) => {
        isInstance(err, VmgenError);
        assert.equal(err.code, 'VMG_KIT_MISSING');
        for (const name of ['FileZilla_Server-setup.exe', 'TortoiseSVN-setup.msi', 'Git-setup.exe']) assert.match(err.message, new RegExp(name.replace('.', '\\.')));
        assert.doesNotMatch(err.message, /python-setup|emacs\.zip/);
        return true;
      });
      const two = kits.filter((k) => k.app === 'python' || k.app === 'emacs');
      assert.deepEqual((await locateKits(two, dir)).map((k) => k.source), [join(dir, 'python-setup.msi'), join(dir, 'emacs.zip')]);
      await assert.rejects(locateKits(two, undefined), (err: unknown) => err instanceof VmgenError && err.code === 'VMG_KIT_MISSING'
        && /python, emacs/.test(err.message) && err.hint === `pass --kits DIR or set ${KITS_DIR_ENV}`);
      assert.deepEqual(await locateKits([], undefined), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('belongs to the Windows family row, not to the installers that make root file systems', () => {
    assert.equal(installerFor('windows-kits'), undefined);
    assert.equal(FAMILIES.windows.root.kind, 'disk-image');
  });
});
