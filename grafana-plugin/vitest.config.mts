// Unit tests of the editors and the datasource, in jsdom.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    exclude: ['src/dist.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    // The ESM builds of @grafana/* import files without extensions and
    // import CSS, which only Vite's resolver handles: let Vite transform them.
    server: { deps: { inline: [/@grafana\//] } },
    testTimeout: 20000,
  },
});
