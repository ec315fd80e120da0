// Lint: typescript-eslint recommended, plus the structural boundary (see ARCHITECTURE.md):
// the core, the CLI and shared/ must not import editor packages.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const editorImports = {
  patterns: [
    {
      group: ['vscode', '@jupyterlab/*', '@lumino/*', '@vscode/*'],
      message: 'packages/ and shared/ are editor-neutral: no editor imports here. See ARCHITECTURE.md "Dependency direction".',
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
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', editorImports],
      'no-console': 'error',
    },
  },
);
