import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // Without a message, a failing assert.ok makes Node 20 rebuild one by parsing the test's source
    // at the call's position; under tsx that position is the transpiled one, and in a long file the
    // parse runs for minutes at full CPU, so a failing test hangs the suite instead of failing.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length=1]", message: 'give assert.ok a message (Node builds one from the source, which hangs under tsx)' },
        { selector: "CallExpression[callee.name='assert'][arguments.length=1]", message: 'give assert() a message (Node builds one from the source, which hangs under tsx)' }],
    },
  },
);
