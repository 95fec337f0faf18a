import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// An assert.ok whose message is its own source text fails naming the check but none of the values
// it saw; such a test should compare values (assert.equal, deepEqual, match, or the helpers in
// test/helpers/assert-values.ts, which print what was missing). Exported for its test.
export const assertMessage = {
  meta: { type: 'suggestion', schema: [], messages: { selfText: 'the message repeats the asserted expression and shows no values: use assert.equal/deepEqual/match or a message that prints them' } },
  create(context) {
    const squash = (s) => s.replace(/\s+/g, ' ').trim();
    const literalText = (node) => {
      if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
      if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
      return undefined;
    };
    const isAssertOk = (callee) =>
      (callee.type === 'Identifier' && callee.name === 'assert') ||
      (callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && callee.object.name === 'assert' &&
        callee.property.type === 'Identifier' && callee.property.name === 'ok');
    return {
      CallExpression(node) {
        if (!isAssertOk(node.callee) || node.arguments.length < 2) return;
        const message = literalText(node.arguments[1]);
        if (message === undefined) return;
        if (squash(message) === squash(context.sourceCode.getText(node.arguments[0]))) context.report({ node: node.arguments[1], messageId: 'selfText' });
      },
    };
  },
};

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
    // bin/ is CommonJS (bin/package.json): Node 20 starts a CommonJS entry without its ES module loader.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Without a message, a failing assert.ok makes Node 20 rebuild one by parsing the test's source
    // at the call's position; under tsx that position is the transpiled one, and in a long file the
    // parse runs for minutes at full CPU, so a failing test hangs the suite instead of failing.
    files: ['test/**/*.ts'],
    plugins: { local: { rules: { 'assert-message': assertMessage } } },
    rules: {
      'local/assert-message': 'error',
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length=1]", message: 'give assert.ok a message (Node builds one from the source, which hangs under tsx)' },
        { selector: "CallExpression[callee.name='assert'][arguments.length=1]", message: 'give assert() a message (Node builds one from the source, which hangs under tsx)' }],
    },
  },
);
