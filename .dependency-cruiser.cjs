/* global module */
/**
 * Which folder of src/ may import which: each layer imports only layers below it (and itself), and
 * nothing imports in a circle. `npm run depcheck` runs this in CI (scripts/test.sh).
 * The layers, lowest first; a folder not listed here is reported by the `unlayered` rule.
 */
const LAYERS = [
  ['errors.ts', 'diagnostics.ts', 'exec', 'fsutil'],
  ['catalog'],
  ['config'],
  ['archive', 'cache', 'communicators'],
  ['disks'],
  ['families'],
  ['installers'],
  ['layers'],
  ['targets'],
  ['validate'],
  ['orchestrator'],
  ['verify'],
  ['service'],
  ['cli'],
];

/** Edges that stay wrong until other parts of issue 14 land; the lead turns these to errors after merging. */
const PENDING = new Set([]);

const alt = (names) => `^src/(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})($|/)`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => {
  const name = `layer-${layer[0].replace(/\.ts$/, '')}`;
  return {
    name,
    comment: `${layer.join(', ')} must not import a higher layer (${LAYERS.slice(i + 1).flat().join(', ')})`,
    severity: PENDING.has(name) ? 'warn' : 'error',
    from: { path: alt(layer) },
    to: { path: alt(LAYERS.slice(i + 1).flat()) },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'A module must not reach itself through its imports, types included',
      severity: PENDING.has('no-cycle') ? 'warn' : 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'sibling-targets',
      comment: 'A target folder imports no other target; what two share lives in targets/vm, targets/ovf or a module at targets/',
      severity: 'error',
      from: { path: '^src/targets/([^/]+)/' },
      to: { path: '^src/targets/[^/]+/', pathNot: ['^src/targets/$1/', '^src/targets/(vm|ovf)/'] },
    },
    {
      name: 'unlayered',
      comment: 'Every folder of src/ has a place in LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: alt(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
