// The lab's storage for oidc-provider artifacts (clients, codes, tokens, grants, sessions): one
// in-memory store per lab, so two labs never share state and tests can look inside (count
// registered clients, find a client's redirect URIs, revoke a grant).
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; undefined = no expiry. */
  expiresAt?: number;
}

export class LabStore {
  private readonly entries = new Map<string, Entry>();
  /** grantId → keys of the artifacts issued under it (revokeByGrantId). */
  private readonly grants = new Map<string, Set<string>>();
  private readonly sessionsByUid = new Map<string, string>();
  private readonly byUserCode = new Map<string, string>();

  adapterFor(model: string): Adapter {
    const key = (id: string) => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        const k = key(id);
        this.entries.set(k, { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined });
        if (payload.grantId) {
          const members = this.grants.get(payload.grantId) ?? new Set<string>();
          members.add(k);
          this.grants.set(payload.grantId, members);
        }
        if (model === 'Session' && payload.uid) this.sessionsByUid.set(payload.uid, id);
        if (payload.userCode) this.byUserCode.set(payload.userCode, id);
      },
      find: async (id) => this.get(key(id)),
      findByUid: async (uid) => {
        const id = this.sessionsByUid.get(uid);
        return id === undefined ? undefined : this.get(key(id));
      },
      findByUserCode: async (userCode) => {
        const id = this.byUserCode.get(userCode);
        return id === undefined ? undefined : this.get(key(id));
      },
      consume: async (id) => {
        const entry = this.entries.get(key(id));
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => this.revokeGrant(grantId),
    };
  }

  /** Every live artifact of one model (e.g. 'Client', 'RefreshToken'). */
  list(model: string): AdapterPayload[] {
    const prefix = `${model}:`;
    const live: AdapterPayload[] = [];
    for (const k of [...this.entries.keys()]) {
      const payload = k.startsWith(prefix) ? this.get(k) : undefined;
      if (payload) live.push(payload);
    }
    return live;
  }

  /** Removes every stored artifact of one model (e.g. every dynamically registered 'Client'); returns how many. */
  forget(model: string): number {
    const prefix = `${model}:`;
    let removed = 0;
    for (const k of [...this.entries.keys()]) {
      if (k.startsWith(prefix) && this.entries.delete(k)) removed++;
    }
    return removed;
  }

  /** Removes every artifact issued under a grant (what revocation and refresh-token reuse do). */
  revokeGrant(grantId: string): void {
    for (const k of this.grants.get(grantId) ?? []) this.entries.delete(k);
    this.grants.delete(grantId);
  }

  private get(k: string): AdapterPayload | undefined {
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(k);
      return undefined;
    }
    return entry.payload;
  }
}
