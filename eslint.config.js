import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'data/**', 'bin/**', 'scripts/**', 'eslint.config.js', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // SQL lives in repositories (`*.repository.ts`) and store/ only: services, jobs, routes and
    // the CLI call repository functions (checked with the folder layers by `npm run arch`).
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/**/*.repository.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)$/]", message: 'SQL belongs in a *.repository.ts file (or store/)' },
        { selector: "TaggedTemplateExpression[tag.name='sql']", message: 'SQL belongs in a *.repository.ts file (or store/)' },
        { selector: "CallExpression[callee.property.name=/^(prepare|pragma)$/]", message: 'SQLite statements belong in a *.repository.ts file (or store/)' },
        { selector: "CallExpression[callee.property.name='exec'][callee.object.name=/^(db|raw|sqlite|trx|tx)$/]", message: 'SQL belongs in a *.repository.ts file (or store/)' },
        { selector: "MemberExpression[property.name='sqlite'][object.name=/^(store|s)$/]", message: 'the SQLite handle is a dialect matter: use it in a repository or store/' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
