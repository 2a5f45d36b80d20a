import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const cwd = tmpdir();

describe('loadConfig', () => {
  it('fills defaults, resolves the project and freezes the result', () => {
    const config = loadConfig({ env: { ALLOW_MISSING_OPENCODE_KEY: '1' }, cwd });
    expect(config.PROXY_PORT).toBe(4000);
    expect(config.PROXY_API_KEY).toBe('sk-local-codex-bridge');
    expect(config.CODEX_OSS_PROJECT).toBe(path.resolve(cwd));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.MODEL_CONCURRENCY_JSON)).toBe(true);
  });

  it('lists every problem at once, each naming the variable to set', () => {
    try {
      loadConfig({
        env: { PROXY_PORT: 'abc', GPT_MODEL_STRATEGY: 'bogus', MODEL_CONCURRENCY_JSON: '{nope' },
        cwd,
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems.some((problem) => problem.startsWith('PROXY_PORT:'))).toBe(true);
      expect(problems.some((problem) => problem.startsWith('GPT_MODEL_STRATEGY:'))).toBe(true);
      expect(
        problems.some(
          (problem) =>
            problem.startsWith('MODEL_CONCURRENCY_JSON:') && problem.includes('not valid JSON'),
        ),
      ).toBe(true);
    }
  });

  it('refuses a local key equal to the upstream key, and a missing Go key', () => {
    expect(() =>
      loadConfig({ env: { OPENCODE_GO_API_KEY: 'sk-same', PROXY_API_KEY: 'sk-same' }, cwd }),
    ).toThrow(/PROXY_API_KEY: the local bridge key equals the upstream key/);
    expect(() => loadConfig({ env: {}, cwd })).toThrow(
      /OPENCODE_GO_API_KEY: required when UPSTREAM_BASE is OpenCode Go/,
    );
    expect(
      loadConfig({ env: { UPSTREAM_BASE: 'http://127.0.0.1:8000/v1' }, cwd }).upstreamIsOpenCodeGo,
    ).toBe(false);
  });

  it('accepts the original spellings and lets flags win over the environment', () => {
    const config = loadConfig({
      env: { UPSTREAM_API_KEY: 'sk-up', LITELLM_MASTER_KEY: 'sk-local', PROXY_PORT: '5000' },
      overrides: { PROXY_PORT: '5001' },
      cwd,
    });
    expect(config.OPENCODE_GO_API_KEY).toBe('sk-up');
    expect(config.PROXY_API_KEY).toBe('sk-local');
    expect(config.PROXY_PORT).toBe(5001);
  });

  it("reads the project's env file below the real environment", () => {
    const project = mkdtempSync(path.join(tmpdir(), 'ocb-env-'));
    mkdirSync(path.join(project, '.codex-oss', 'env'), { recursive: true });
    writeFileSync(
      path.join(project, '.codex-oss', 'env', 'opencode-go.env'),
      '# key\nexport OPENCODE_GO_API_KEY="sk-from-file"\nPROXY_PORT=4100\nUNKNOWN=1\n',
    );
    const config = loadConfig({
      env: { CODEX_OSS_PROJECT: project, PROXY_PORT: '4200' },
      cwd,
      readProjectEnvFile: true,
    });
    expect(config.OPENCODE_GO_API_KEY).toBe('sk-from-file');
    expect(config.PROXY_PORT).toBe(4200);
    expect(() => loadConfig({ env: { CODEX_OSS_PROJECT: project }, cwd })).toThrow(
      /OPENCODE_GO_API_KEY/,
    );
  });
});
