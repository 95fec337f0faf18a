import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { FAMILY_IDS, FAMILY_INSTALLERS, INSTALLER_IDS, PACKAGE_INSTALLER_IDS } from '../../src/catalog/families.js';
import { TARGET_IDS } from '../../src/targets/registry.js';

/**
 * A name that has a registry is typed once, in it: anywhere else a string literal equal to a
 * target, family or installer id is a copy that drifts. Comments, identifiers and longer strings
 * ('lxc-attach', 'use -t qemu') are not literals of the name and pass.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'web/src'];

interface Exception {
  file: string;
  name: string;
  why: string;
}

interface NameRule {
  what: string;
  names: readonly string[];
  /** Path prefixes (relative to the repository, with /) where a name may be spelled out. */
  allowed: (name: string) => string[];
  exceptions?: readonly Exception[];
  /** Why the rule does not hold yet, when it does not. */
  skip?: string;
}

/** A package tool lives in src/installers/<id>/; any other installer (Windows' kits) in the folder of the family that owns it. */
function installerFolder(id: string): string {
  if ((PACKAGE_INSTALLER_IDS as readonly string[]).includes(id)) return `src/installers/${id}/`;
  const owner = FAMILY_IDS.find((family) => (FAMILY_INSTALLERS[family] as readonly string[]).includes(id));
  if (owner === undefined) throw new Error(`installer ${id} is neither a package tool nor a family's own`);
  return `src/families/${owner}/`;
}

const RULES: readonly NameRule[] = [
  {
    what: 'target',
    names: TARGET_IDS,
    allowed: (id) => [`src/targets/${id}/`, 'src/targets/registry.ts'],
    exceptions: [
      { file: 'src/exec/tools.ts', name: 'lxc', why: "the Debian package holding lxc-start, not the target" },
      { file: 'src/verify/verify.ts', name: 'lxc', why: "the LXC runtime's scratch directory, named after the program" },
      { file: 'src/verify/verify.ts', name: 'qemu', why: "the qemu runtime's scratch directory, named after the program" },
    ],
  },
  {
    what: 'family',
    names: FAMILY_IDS,
    allowed: (id) => [`src/families/${id}/`, 'src/families/registry.ts', 'src/catalog/families.ts'],
    exceptions: [
      { file: 'src/catalog/schema.ts', name: 'debian', why: 'a distribution (beside ubuntu), not the family' },
      { file: 'src/catalog/schema.ts', name: 'windows', why: 'a distribution, not the family' },
      { file: 'src/targets/openvz/render.ts', name: 'debian', why: "vzctl's distribution scripts, named by vzctl" },
      { file: 'src/targets/openvz/render.ts', name: 'redhat', why: "vzctl's distribution scripts, named by vzctl" },
    ],
  },
  {
    what: 'installer',
    names: INSTALLER_IDS,
    allowed: (id) => [installerFolder(id), 'src/installers/registry.ts', 'src/catalog/families.ts'],
    exceptions: [
      { file: 'src/exec/tools.ts', name: 'dnf', why: 'the Debian package holding the dnf program, not the installer' },
      { file: 'src/catalog/schema.ts', name: 'windows-kits', why: 'a key of the Record<CatalogKey, …> of app entry schemas: the type checker keeps it in step' },
    ],
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

interface Literal {
  file: string;
  line: number;
  text: string;
}

/** Every string literal in the file, parsed (so comments and identifiers are not literals). */
export function stringLiterals(file: string, text: string): Literal[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Literal[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      out.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const LITERALS: Literal[] = SCANNED.flatMap((dir) => sourceFiles(join(ROOT, dir))).flatMap((path) => {
  const file = relative(ROOT, path).split(sep).join('/');
  return stringLiterals(file, readFileSync(path, 'utf8'));
});

/** The literals breaking a rule, as file:line: 'name'. */
export function offenders(rule: NameRule, literals: readonly Literal[]): string[] {
  const names = new Set(rule.names);
  return literals
    .filter((l) => names.has(l.text))
    .filter((l) => !rule.allowed(l.text).some((prefix) => l.file.startsWith(prefix)))
    .filter((l) => !rule.exceptions?.some((e) => e.file === l.file && e.name === l.text))
    .map((l) => `${l.file}:${l.line}: '${l.text}'`);
}

describe('names typed once, in their registry', () => {
  it('finds the literals a file has, and only literals', () => {
    const text = "// 'qemu' in a comment\nconst qemu = 1;\nexport const a = 'qemu';\nexport const b = `lxc`;\nexport const c = 'qemu-img';\n";
    assert.deepEqual(stringLiterals('x.ts', text).map((l) => `${l.line}:${l.text}`), ['3:qemu', '4:lxc', '5:qemu-img']);
  });
  it('names a literal outside its folder, and lets its own folder and the exceptions be', () => {
    const rule = RULES[0]!;
    const literals: Literal[] = [
      { file: 'src/cli/x.ts', line: 3, text: 'qemu' },
      { file: 'src/targets/qemu/render.ts', line: 9, text: 'qemu' },
      { file: 'src/targets/lxc/index.ts', line: 4, text: 'qemu' },
      { file: 'src/exec/tools.ts', line: 19, text: 'lxc' },
    ];
    assert.deepEqual(offenders(rule, literals), ["src/cli/x.ts:3: 'qemu'", "src/targets/lxc/index.ts:4: 'qemu'"]);
  });
  it("lets an installer be named in its own folder, Windows' kits in the Windows family's", () => {
    const rule = RULES.find((r) => r.what === 'installer')!;
    const literals: Literal[] = [
      { file: 'src/families/windows/kits.ts', line: 2, text: 'windows-kits' },
      { file: 'src/installers/yum/index.ts', line: 9, text: 'yum' },
      { file: 'src/installers/apt/index.ts', line: 5, text: 'windows-kits' },
      { file: 'src/families/redhat/configure.ts', line: 7, text: 'yum' },
    ];
    assert.deepEqual(offenders(rule, literals), ["src/installers/apt/index.ts:5: 'windows-kits'", "src/families/redhat/configure.ts:7: 'yum'"]);
  });
  for (const rule of RULES) {
    it(`has no ${rule.what} name as a string literal outside its registry and folder`, rule.skip ? { skip: rule.skip } : {}, () => {
      assert.deepEqual(offenders(rule, LITERALS), []);
    });
    it(`has ${rule.what} exceptions that still match a literal`, rule.skip ? { skip: rule.skip } : {}, () => {
      const stale = (rule.exceptions ?? []).filter((e) => !LITERALS.some((l) => l.file === e.file && l.text === e.name));
      assert.deepEqual(stale, []);
    });
  }
});
