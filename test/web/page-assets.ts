import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../service/fakes.js';

/**
 * The page as the service serves it, in a directory of the test's own: its modules transpiled one
 * by one (npm run build type-checks them; a test only needs them to run, in a second rather than
 * ten), index.html and style.css beside them.
 */
export function stagePageAssets(assets: string): void {
  mkdirSync(join(assets, 'js'), { recursive: true });
  for (const f of readdirSync(join(ROOT, 'web', 'src')).filter((n) => n.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, 'web', 'src', f), 'utf8'),
      { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: false } });
    writeFileSync(join(assets, 'js', f.replace(/\.ts$/, '.js')), outputText);
  }
  for (const f of ['index.html', 'style.css']) copyFileSync(join(ROOT, 'web', f), join(assets, f));
}
