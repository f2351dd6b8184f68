import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cachedTemporalCliPath,
  cachedTestServerPath,
  findProvisioned,
  findTemporalCli,
  findTestServer,
  provisionTemporalCli,
  provisionTestServer,
  ProvisionError,
  writeProvisionedJson,
} from '../scripts/provision';

function makeExecutable(p: string, content = '#!/bin/sh\nexit 0\n'): string {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content, { mode: 0o755 });
  return p;
}

describe('provisioning', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-provision-test-'));
    // Empty PATH: nothing can be built, so these tests never shell out to go/mvn.
    env = { CLOSETFLOW_CACHE_DIR: path.join(tmp, 'cache'), PATH: '' };
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('uses CLOSETFLOW_CACHE_DIR for the cache locations', () => {
    expect(cachedTemporalCliPath(env)).toBe(path.join(tmp, 'cache', 'temporal-cli-1.5.1', 'temporal'));
    expect(cachedTestServerPath(env)).toBe(path.join(tmp, 'cache', 'temporal-test-server-1.31.0', 'temporal-test-server'));
  });

  it('prefers TEMPORAL_CLI_PATH when it is set', () => {
    makeExecutable(cachedTemporalCliPath(env));
    const explicit = makeExecutable(path.join(tmp, 'custom', 'temporal'));
    expect(findTemporalCli({ ...env, TEMPORAL_CLI_PATH: explicit })).toBe(explicit);
  });

  it('reports a clear error when TEMPORAL_CLI_PATH points to a missing file', () => {
    const missing = path.join(tmp, 'nope', 'temporal');
    const call = () => findTemporalCli({ ...env, TEMPORAL_CLI_PATH: missing });
    expect(call).toThrow(ProvisionError);
    expect(call).toThrow(/TEMPORAL_CLI_PATH is set to .*nope\/temporal, but no file exists there/);
  });

  it('rejects a TEMPORAL_TEST_SERVER_PATH that is not executable', () => {
    const notExec = path.join(tmp, 'server');
    fs.writeFileSync(notExec, 'x', { mode: 0o644 });
    expect(() => findTestServer({ ...env, TEMPORAL_TEST_SERVER_PATH: notExec })).toThrow(/not an executable file/);
  });

  it('finds the cached temporal CLI build', () => {
    const cached = makeExecutable(cachedTemporalCliPath(env));
    expect(findTemporalCli(env)).toBe(cached);
  });

  it('finds the cached time-skipping server wrapper', () => {
    const wrapper = makeExecutable(cachedTestServerPath(env));
    const jar = path.join(tmp, 'm2', 'temporal-test-server.jar');
    fs.mkdirSync(path.dirname(jar), { recursive: true });
    fs.writeFileSync(jar, '');
    fs.writeFileSync(path.join(path.dirname(wrapper), 'classpath.txt'), `${jar}\n`);
    expect(findTestServer(env)).toBe(wrapper);
  });

  it('ignores a cached wrapper whose classpath jars are gone', () => {
    const wrapper = makeExecutable(cachedTestServerPath(env));
    fs.writeFileSync(path.join(path.dirname(wrapper), 'classpath.txt'), path.join(tmp, 'gone.jar') + '\n');
    expect(findTestServer(env)).toBeUndefined();
  });

  it('falls back to SDK download (undefined) when nothing is cached and no toolchain is on PATH', async () => {
    expect(findProvisioned(env)).toEqual({ temporalCliPath: undefined, testServerPath: undefined });
    await expect(provisionTemporalCli(env)).resolves.toBeUndefined();
    await expect(provisionTestServer(env)).resolves.toBeUndefined();
    const logged = (console.log as jest.Mock).mock.calls.map((c) => String(c[0])).join('\n');
    expect(logged).toMatch(/`go` is not on PATH/);
    expect(logged).toMatch(/mvn and java not on PATH/);
  });

  it('does not rebuild when the CLI is already cached', async () => {
    const cached = makeExecutable(cachedTemporalCliPath(env));
    await expect(provisionTemporalCli(env)).resolves.toBe(cached);
    const logged = (console.log as jest.Mock).mock.calls.map((c) => String(c[0])).join('\n');
    expect(logged).toContain(`[provision] temporal CLI: using cached build at ${cached}`);
  });

  it('writes the resolved paths to .data/provisioned.json', () => {
    const file = writeProvisionedJson({ temporalCliPath: '/x/temporal' }, tmp);
    expect(file).toBe(path.join(tmp, '.data', 'provisioned.json'));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ temporalCliPath: '/x/temporal' });
  });
});
