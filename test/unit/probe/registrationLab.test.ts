// The registration verdict against the lab's real authorization server (oidc-provider on
// loopback), through `mcp-auth-doctor status --json` in a sandbox HOME that names the lab in both
// clients' configs with no login stored: CIMD on or off, `none` listed or not, DCR on or off.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/io';
import { startLab, type Lab, type LabBehaviour } from '../../lab/index';
import { DEFAULT_BEHAVIOUR } from '../../lab/behaviour';

interface ServerJson {
  client: string;
  name: string;
  findings: { code: string; severity: string }[];
  probe: { registration: { client: string; method: string; clientId?: string }[] } | null;
}

describe('registration verdicts against the lab', function () {
  this.timeout(60_000);
  let lab: Lab;
  let home: string;

  before(async () => {
    lab = await startLab();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mad-registration-'));
    fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ mcpServers: { lab: { type: 'http', url: lab.mcpUrl } } }));
    fs.mkdirSync(path.join(home, '.codex'));
    fs.writeFileSync(path.join(home, '.codex', 'config.toml'), `[mcp_servers.lab]\nurl = "${lab.mcpUrl}"\n`);
  });
  after(async () => {
    await lab.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  async function methods(behaviour: Partial<LabBehaviour>): Promise<{ claude: ServerJson; codex: ServerJson }> {
    lab.configure({ ...DEFAULT_BEHAVIOUR, ...behaviour });
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { HOME: home }, cwd: home };
    const registrations = lab.registrationRequests();
    assert.notEqual(await runCli(['status', '--json'], io), 2, stderr);
    assert.equal(lab.registrationRequests(), registrations, 'the probe registered a client');
    const servers = (JSON.parse(stdout) as { servers: ServerJson[] }).servers;
    const of = (client: string) => servers.find((s) => s.client === client && s.name === 'lab')!;
    return { claude: of('claude-code'), codex: of('codex') };
  }
  const own = (s: ServerJson) => s.probe?.registration[0]?.method;
  const codes = (s: ServerJson) => s.findings.map((f) => f.code);

  it('CIMD and DCR: both clients use their documents', async () => {
    const { claude, codex } = await methods({ clientIdMetadataDocuments: true, dynamicRegistration: true, advertisePublicClients: true });
    assert.deepEqual([own(claude), own(codex)], ['metadata-document', 'metadata-document']);
    assert.equal(claude.probe?.registration[0]?.clientId, 'https://claude.ai/oauth/claude-code-client-metadata');
    assert.equal(codex.probe?.registration[0]?.clientId, 'https://chatgpt.com/oauth/codex/client.json');
  });

  it('CIMD only without `none`: Claude Code uses its document, Codex has no way in', async () => {
    const { claude, codex } = await methods({ clientIdMetadataDocuments: true, dynamicRegistration: false, advertisePublicClients: false });
    assert.equal(own(claude), 'metadata-document');
    assert.ok(!codes(claude).includes('probe.no-registration-path'), codes(claude).join());
    assert.equal(own(codex), 'none');
    assert.equal(codex.findings.find((f) => f.code === 'probe.no-registration-path')?.severity, 'error');
  });

  it('CIMD and DCR without `none`: Codex registers dynamically and is told why', async () => {
    const { codex } = await methods({ clientIdMetadataDocuments: true, dynamicRegistration: true, advertisePublicClients: false });
    assert.equal(own(codex), 'dynamic-registration');
    assert.ok(codes(codex).includes('probe.cimd-without-public-clients'), codes(codex).join());
  });

  it('DCR only, and neither', async () => {
    let r = await methods({ clientIdMetadataDocuments: false, dynamicRegistration: true });
    assert.deepEqual([own(r.claude), own(r.codex)], ['dynamic-registration', 'dynamic-registration']);
    r = await methods({ clientIdMetadataDocuments: false, dynamicRegistration: false });
    assert.deepEqual([own(r.claude), own(r.codex)], ['none', 'none']);
    for (const s of [r.claude, r.codex]) assert.equal(s.findings.find((f) => f.code === 'probe.no-registration-path')?.severity, 'error');
  });
});
