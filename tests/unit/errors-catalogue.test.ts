import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, errorCodes } from '../../src/errors/index.js';

const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...page.matchAll(/^## `([a-z_]+)`$/gm)].map((match) => match[1]);

describe('docs/errors.md', () => {
  it('documents every catalogue code, and nothing else', () => {
    expect([...documented].sort()).toEqual([...errorCodes].sort());
  });

  it('states the HTTP status, stream code and retryability the code uses', () => {
    for (const code of errorCodes) {
      const spec = errorCatalogue[code];
      const section = page.split(`## \`${code}\``)[1]?.split('\n## ')[0] ?? '';
      expect(section, code).toContain(`- HTTP: ${spec.status} (${spec.type})`);
      expect(section, code).toContain(`- In a stream: \`${spec.failedCode}\``);
      expect(section, code).toContain(`- Retryable: ${spec.retryable ? 'yes' : 'no'}`);
      expect(section, code).toMatch(/\*\*What to do:\*\* \S/);
    }
  });
});
