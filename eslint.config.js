import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SRC = path.join(import.meta.dirname, 'src');

/**
 * The layers (docs/architecture.md): what each top-level folder (or module) of src/ must not
 * import. Core knows no transport and no runtime; runtime knows no HTTP front; the API dialects
 * reach WordPress only through core. Only src/composition.ts and the CLI put them together.
 */
const FORBIDDEN = {
  core: ['api', 'edge', 'runtime', 'cli', 'jobs', 'composition'],
  runtime: ['api', 'edge', 'cli', 'jobs', 'composition'],
  edge: ['api', 'cli', 'jobs', 'composition'],
  api: ['edge', 'runtime', 'cli', 'jobs'],
  jobs: ['api', 'edge', 'runtime', 'cli', 'composition'],
  db: ['core', 'api', 'edge', 'runtime', 'cli', 'jobs', 'composition'],
};

/** The top-level folder or module of src/ a path is in, or null outside src/. */
function layerOf(file) {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return relative.split(path.sep)[0].replace(/\.[jt]s$/, '');
}

const layers = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const forbidden = FORBIDDEN[layerOf(context.filename) ?? ''];
    if (forbidden === undefined) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = layerOf(path.resolve(path.dirname(context.filename), source));
      if (target !== null && forbidden.includes(target)) {
        const from = layerOf(context.filename);
        context.report({
          node,
          message: `src/${from} must not import from src/${target} (docs/architecture.md).`,
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => check(node, node.source?.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, node.source.value),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { wpfleet: { rules: { layers } } },
    rules: { 'wpfleet/layers': 'error' },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
