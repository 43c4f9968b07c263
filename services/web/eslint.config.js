// The console's and the grid worker's app's own JavaScript (static/*.js), with ESLint's recommended
// rules; the vendored packages (node_modules, served under /app/vendor) are not ours to lint.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/**'] },
  js.configs.recommended,
  {
    files: ['src/gridloop/web/static/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    // Classic scripts (not modules): the console's page script and the service worker.
    files: ['src/gridloop/web/static/console.js'],
    languageOptions: { sourceType: 'script' },
  },
  {
    files: ['src/gridloop/web/static/sw.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.serviceworker } },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },
];
