// Checks the built bundle, dist/module.js; run after `npm run build`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/dist.test.ts'],
  },
});
