// Lint: typescript-eslint recommended, plus the structural boundary (see ARCHITECTURE.md):
// the core, the CLI and shared/ must not import editor packages.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const editorImports = {
  patterns: [
    {
      group: ['vscode', '@jupyterlab/*', '@lumino/*', '@vscode/*'],
      message:
        'packages/ and shared/ are editor-neutral: no editor imports here. See ARCHITECTURE.md "Dependency direction".',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/lib/**',
      '**/out/**',
      '**/node_modules/**',
      '**/labextension/**',
      '**/*.d.ts',
      'extension-jupyterlab/ray_connect_jupyterlab/**',
      '**/.venv/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['extension-jupyterlab/src/**/*.ts', 'extension-jupyterlab/src/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['packages/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', editorImports],
      'no-console': 'error',
    },
  },
);
