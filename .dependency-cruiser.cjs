/**
 * The architecture's rules (`npm run arch`, part of `npm run check` and of CI).
 *
 * Folders of src/ are layers, lowest first; a folder may import its own and lower layers only,
 * so no two folders can ever import each other (no folder cycle). Models are pure: they import
 * models and libraries, nothing else of src/. Routes and jobs never touch a database driver.
 * (SQL itself is kept in repositories and store/ by the lint rule in eslint.config.js.)
 */
const LAYERS = ['models', 'core', 'store', 'jobs', 'http', 'auth', 'ingest', 'value', 'listening', 'search', 'relationships', 'customers', 'demo', 'server', 'cli'];

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `${layer}/ may import only ${LAYERS.slice(0, i + 1).join(', ')} (the layers at or below it)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'known-folder',
      comment: 'every file of src/ lives in one of the layers named in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/` },
    },
    {
      name: 'models-are-pure',
      comment: 'a model imports only models and libraries: no database, no HTTP, no configuration',
      severity: 'error',
      from: { path: '^src/models/' },
      to: { path: '^src/', pathNot: '^src/models/' },
    },
    {
      name: 'no-driver-in-routes-or-jobs',
      comment: 'routes and jobs reach the database through repositories, never through its driver',
      severity: 'error',
      from: { path: '\\.(routes|job)\\.ts$' },
      to: { path: 'node_modules/(better-sqlite3|pg|kysely)/' },
    },
    {
      name: 'no-driver-outside-store-and-repositories',
      comment: 'only store/ and repositories import the database drivers and the query builder',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/store/', '\\.repository\\.ts$', '^src/jobs/job\\.worker\\.ts$'] },
      to: { path: 'node_modules/(better-sqlite3|pg|kysely)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.json'] },
  },
};
