import pluginVue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';
import vueParser from 'vue-eslint-parser';
import layers from './tools/lint/layers.mjs';

/** Layers: what each part of the app may import (see shared/guide/style.md). */
const noNodeOrElectron = {
  patterns: [
    { group: ['electron', 'electron/*'], message: 'Electron belongs to src/main and src/preload only.' },
    { group: ['node:*', 'fs', 'path', 'os', 'child_process'], message: 'Node modules are not available here.' },
  ],
};

export default tseslint.config(
  { ignores: ['.tmp/**', 'out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'tools/train/.work/**'] },
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
    },
  },
  {
    // The direction of imports between src/'s layers (tools/lint/layers.mjs), and no import cycles.
    files: ['src/**/*.{ts,vue}'],
    plugins: { layers },
    rules: { 'layers/allowed-imports': 'error', 'layers/no-cycle': 'error' },
  },
  {
    files: ['src/renderer/**/*.{ts,vue}', 'src/engine/**/*.ts', 'src/common/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noNodeOrElectron] },
  },
  {
    files: ['src/engine/**/*.ts', 'src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...noNodeOrElectron, patterns: [...noNodeOrElectron.patterns, { group: ['vue', 'pinia', '**/renderer/**'], message: 'The engine and common contracts stay free of Vue and the UI.' }] },
      ],
    },
  },
);
