/* global module */
/**
 * Which folder of src/ may import which: each layer imports only layers below it (and itself), and
 * nothing imports in a circle. `npm run depcheck` runs this in CI (scripts/test.sh).
 * The layers, lowest first; a folder not listed here is reported by the `unlayered` rule.
 */
/*
 * A family's row (src/families/<f>/index.ts, its own steps, the registry and the Family type) puts
 * together what the layers below it make, the step list included, so it sits above them; the rest
 * of src/families (configurators, guest files) is low enough for targets and installers to use.
 */
const FAMILY_ROWS = 'families/(registry|family)\\.ts|families/[^/]+/(index|build)\\.ts';

const LAYERS = [
  ['errors.ts', 'diagnostics.ts', 'package-root.ts', 'exec', 'fsutil'],
  ['catalog'],
  ['config'],
  ['archive', 'cache', 'communicators'],
  ['disks'],
  ['families'],
  ['installers'],
  ['layers'],
  ['targets'],
  ['steps'],
  [FAMILY_ROWS],
  ['validate'],
  ['orchestrator'],
  ['verify'],
  ['lab'],
  ['service'],
  ['cli'],
];

const alt = (names) => `^src/(${names.map((n) => (n === FAMILY_ROWS ? n : n.replace(/\./g, '\\.'))).join('|')})($|/)`;

/** The rule's files, without the family rows (a layer of their own above the rest of src/families). */
const layerPath = (layer) => (layer.includes('families') ? { path: alt(layer), pathNot: `^src/(${FAMILY_ROWS})$` } : { path: alt(layer) });

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer[0] === FAMILY_ROWS ? 'family-rows' : layer[0].replace(/\.ts$/, '')}`,
  comment: `${layer.join(', ')} must not import a higher layer (${LAYERS.slice(i + 1).flat().join(', ')})`,
  from: layerPath(layer),
  to: { path: alt(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'A module must not reach itself through its imports, types included',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'sibling-targets',
      comment: 'A target folder imports no other target; what two share lives in targets/vm, targets/ovf or a module at targets/',
      from: { path: '^src/targets/([^/]+)/' },
      to: { path: '^src/targets/[^/]+/', pathNot: ['^src/targets/$1/', '^src/targets/(vm|ovf)/'] },
    },
    {
      name: 'unlayered',
      comment: 'Every folder of src/ has a place in LAYERS in .dependency-cruiser.cjs',
      from: { path: '^src/', pathNot: alt(LAYERS.flat()) },
      to: {},
    },
  ].map((rule) => ({ ...rule, severity: 'error' })),
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
