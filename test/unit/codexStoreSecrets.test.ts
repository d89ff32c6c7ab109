// The Codex 0.171 encrypted secrets backend without the real client: names and keys (fixtures
// from a real Codex 0.171 login and from openai/codex codex-rs/secrets + rmcp-client sources), the
// age file against age-encryption's own passphrase code, and the store's guarantees (one entry
// changed, others and the mode kept, snapshot first, refusal when the key is gone).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SnapshotStore } from '../../src/core/credentials/backups';
import type { KeyringOpResult, KeyringRunner } from '../../src/core/credentials/codexKeyring';
import {
  codexSecretKey,
  codexSecretName,
  codexSecretsPassphraseAccount,
  decryptSecretsFile,
  encryptSecretsFile,
  parseSecretsPlaintext,
  scryptWorkFactorOf,
  serializeSecretsDoc,
} from '../../src/core/credentials/codexSecrets';
import { CODEX_FINDING, CodexStore, codexKey } from '../../src/core/credentials/codexStore';
import type { Environment } from '../../src/core/environment';
import { fingerprint } from '../../src/core/storageKey';
import { mint, sandboxEnv, tempDir } from './credentialsHelpers';

function memoryKeyring(initial: Record<string, string> = {}): { runner: KeyringRunner; items: Map<string, string> } {
  const items = new Map(Object.entries(initial));
  const runner: KeyringRunner = async (ops) => ({
    reachable: true,
    results: ops.map((op): KeyringOpResult => {
      if (op.op === 'find') return { ok: true, found: [] };
      if (op.op === 'get') return { ok: true, value: items.get(op.account) ?? null };
      if (op.op === 'set') return items.set(op.account, op.value), { ok: true };
      return { ok: true, deleted: items.delete(op.account) };
    }),
  });
  return { runner, items };
}

const URL_A = 'http://127.0.0.1:34021/mcp';

describe('Codex secrets backend: names and format', () => {
  it('names an entry as the real Codex 0.171 did', () => {
    // Observed: `codex mcp login lab` (0.171.0, secret_auth_storage) for this URL wrote this entry.
    assert.equal(codexKey('lab', URL_A), 'lab|a4589852f64824a7');
    assert.equal(codexSecretKey(codexKey('lab', URL_A)), 'global/MCP_OAUTH_16DEBC38E1CF16FF24699C3174DA5636');
    assert.match(codexSecretName('x'), /^MCP_OAUTH_[0-9A-F]{32}$/);
  });

  it('namespaces executor: and local: names as CredentialStoreKeys::new does', () => {
    const plain = codexKey('lab', URL_A);
    assert.equal(codexKey('local:lab', URL_A), plain, 'local: is dropped');
    assert.equal(codexKey('executor:env1:lab', URL_A), `executor:env1:lab:${plain.split('|')[1]}`, "executor names join with ':'");
  });

  it('derives the passphrase account from the canonical CODEX_HOME', async () => {
    const dir = await tempDir('mad-secrets-acct-');
    try {
      const link = `${dir}-link`;
      await fs.symlink(dir, link);
      const account = await codexSecretsPassphraseAccount(link);
      assert.equal(account, await codexSecretsPassphraseAccount(dir), 'a symlinked CODEX_HOME is canonicalized');
      assert.match(account, /^secrets\|[0-9a-f]{16}$/);
      assert.match(await codexSecretsPassphraseAccount(path.join(dir, 'missing')), /^secrets\|[0-9a-f]{16}$/);
      await fs.unlink(link);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('our age file opens with age-encryption\'s own passphrase decrypter, and theirs with ours', async function () {
    this.timeout(60_000);
    const { Decrypter, Encrypter } = await import('age-encryption');
    const text = serializeSecretsDoc({ version: 1, secrets: { 'global/B': 'b', 'global/A': 'a' } });
    assert.equal(text, '{"version":1,"secrets":{"global/A":"a","global/B":"b"}}', 'compact, keys in byte order, like serde');
    const ours = await encryptSecretsFile(text, 'pass-1', 10);
    assert.equal(scryptWorkFactorOf(ours), 10);
    const d = new Decrypter();
    d.addPassphrase('pass-1');
    assert.equal(await d.decrypt(ours, 'text'), text);
    const enc = new Encrypter();
    enc.setPassphrase('pass-2');
    enc.setScryptWorkFactor(11);
    const theirs = await enc.encrypt(text);
    assert.deepEqual(await decryptSecretsFile(theirs, 'pass-2'), { plaintext: text, logN: 11 });
    await assert.rejects(decryptSecretsFile(theirs, 'wrong'), /does not open it/);
  });

  it('refuses a newer secrets version, reads version 0 as 1, keeps unknown top-level fields', () => {
    assert.match((parseSecretsPlaintext('{"version":2,"secrets":{}}') as { reason: string }).reason, /newer/);
    const v0 = parseSecretsPlaintext('{"version":0,"secrets":{},"extra":true}');
    assert.ok(v0.ok);
    assert.deepEqual(v0.doc, { version: 1, secrets: {}, extra: true });
  });
});

describe('Codex secrets backend: the store', function () {
  this.timeout(60_000);
  let home: string;
  let e: Environment;
  let backups: SnapshotStore;
  beforeEach(async () => {
    home = await tempDir('mad-codex-secrets-');
    await fs.mkdir(path.join(home, '.codex'), { recursive: true });
    e = sandboxEnv(home);
    backups = new SnapshotStore(path.join(home, 'backups'));
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  const file = () => path.join(home, '.codex', 'secrets', 'mcp_oauth.age');
  const key = () => codexKey('lab', URL_A);
  function store(secrets: ReturnType<typeof memoryKeyring>, mode: 'auto' | 'keyring' = 'keyring') {
    return new CodexStore(e, { settings: { mode, secretAuthStorage: true, servers: [{ name: 'lab', url: URL_A }] }, backups, keyring: memoryKeyring().runner, secretsKeyring: secrets.runner });
  }
  async function seed(secrets: ReturnType<typeof memoryKeyring>, entries: Record<string, string>, logN = 10): Promise<void> {
    const pass = 'seed-pass';
    secrets.items.set(await codexSecretsPassphraseAccount(path.join(home, '.codex')), pass);
    await fs.mkdir(path.dirname(file()), { recursive: true });
    await fs.writeFile(file(), await encryptSecretsFile(serializeSecretsDoc({ version: 1, secrets: entries }), pass, logN), { mode: 0o644 });
    await fs.chmod(file(), 0o644);
  }
  const grant = (accessToken: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ server_name: 'lab', url: URL_A, issuer: 'http://127.0.0.1:1', client_id: 'c', token_response: { access_token: accessToken, token_type: 'Bearer', refresh_token: 'rt-1', scope: 'mcp' }, expires_at: Date.now() + 3600_000, ...extra });

  it('changes only its entry: other entries, unknown fields, the key, the work factor and the mode stay', async () => {
    const secrets = memoryKeyring();
    const other = 'env/x/OTHER_SECRET';
    await seed(secrets, { [codexSecretKey(key())]: grant('old', { future_field: 1 }), [other]: 'untouched' });
    const fresh = mint('at');
    const r = await store(secrets).write(key(), { accessToken: fresh });
    assert.ok(r.snapshotId, 'a snapshot before the write');
    const out = await decryptSecretsFile(await fs.readFile(file()), 'seed-pass');
    assert.equal(out.logN, 10);
    const doc = JSON.parse(out.plaintext);
    assert.equal(doc.secrets[other], 'untouched');
    const entry = JSON.parse(doc.secrets[codexSecretKey(key())]);
    assert.equal(fingerprint(entry.token_response.access_token), fingerprint(fresh));
    assert.equal(entry.future_field, 1);
    assert.equal(entry.token_response.refresh_token, 'rt-1');
    assert.equal((await fs.stat(file())).mode & 0o777, 0o644);
    const snap = await backups.read(r.snapshotId!);
    assert.ok(snap?.raw?.includes('"old'), 'the snapshot holds the previous value');
  });

  it('a secrets file whose key is gone: a finding, and nothing is written', async () => {
    const secrets = memoryKeyring();
    await seed(secrets, { [codexSecretKey(key())]: grant('old') });
    secrets.items.clear();
    const before = await fs.readFile(file());
    const s = store(secrets);
    const listing = await s.list();
    const f = listing.findings.find((x) => x.code === CODEX_FINDING.encryptedSecrets);
    assert.equal(f?.severity, 'error');
    assert.match(f!.detail, /missing from the OS keyring/);
    await assert.rejects(s.write(key(), { accessToken: mint('x') }), /cannot be used/);
    assert.deepEqual(await fs.readFile(file()), before);
  });

  it('flags a grant with a refresh token but no issuer (Codex will not refresh it), and not one with an issuer', async () => {
    const secrets = memoryKeyring();
    await seed(secrets, { [codexSecretKey(key())]: grant('at-1', { issuer: undefined }) });
    const unbound = (await store(secrets).list()).findings.filter((x) => x.code === CODEX_FINDING.issuerUnbound);
    assert.equal(unbound.length, 1);
    assert.match(unbound[0]!.detail, /could not be bound to their issuer/);
    await store(secrets).write(key(), { issuer: 'http://127.0.0.1:1' });
    assert.deepEqual((await store(secrets).list()).findings.filter((x) => x.code === CODEX_FINDING.issuerUnbound), []);
  });
});
