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

/**
 * Edges that stay wrong until other parts of issue 14 land, by rule: the files they start from. Each
 * rule is an error everywhere else and a warning from these files; the lead deletes an entry once
 * its files are fixed (windows/build.ts's copied pipeline, kits.ts's installer, the verify checks).
 */
const PENDING = {
  'no-cycle': ['^src/families/windows/build\\.ts$', '^src/orchestrator/build\\.ts$', '^src/verify/(checks|redhat-checks)\\.ts$'],
  'layer-families': ['^src/families/windows/(build|kits)\\.ts$'],
};

const alt = (names) => `^src/(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})($|/)`;

/** The rule as an error, and as a warning from the files PENDING lists for it. */
function withPending(rule) {
  const pending = PENDING[rule.name];
  if (!pending) return [{ ...rule, severity: 'error' }];
  const fromNot = [rule.from.pathNot ?? []].flat();
  return [
    { ...rule, severity: 'error', from: { ...rule.from, pathNot: [...fromNot, ...pending] } },
    { ...rule, name: `${rule.name}-pending`, severity: 'warn', from: { ...rule.from, path: pending } },
  ];
}

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer[0].replace(/\.ts$/, '')}`,
  comment: `${layer.join(', ')} must not import a higher layer (${LAYERS.slice(i + 1).flat().join(', ')})`,
  from: { path: alt(layer) },
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
  ].flatMap(withPending),
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
