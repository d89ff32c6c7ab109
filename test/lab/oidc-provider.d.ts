// oidc-provider 9 ships no type declarations; these cover only what the lab uses
// (node_modules/oidc-provider/lib/provider.js, models/grant.js, helpers/errors.js).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { EventEmitter } from 'node:events';

  export type AdapterPayload = Record<string, unknown> & {
    jti?: string;
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientView {
    clientId: string;
    clientAuthMethod: string;
    grantTypeAllowed(grantType: string): boolean;
  }

  export interface LabClientPrototype {
    redirectUriAllowed(this: LabClientInstance, value: string): boolean;
  }

  export interface LabClientInstance {
    redirectUris: string[];
    /** Set (non-enumerable) on clients resolved from a Client ID Metadata Document. */
    clientIdMetadataDocument?: boolean;
  }

  /** The slice of Koa's context (plus `ctx.oidc`) the lab's hooks read. */
  export interface OidcContext {
    method: string;
    path: string;
    oidc: {
      route?: string;
      params?: Record<string, unknown>;
      client?: ClientView;
      entities: Record<string, unknown>;
    };
  }

  export interface InteractionDetails {
    uid: string;
    params: Record<string, string | undefined> & { client_id: string };
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    grantId?: string;
    session?: { accountId?: string };
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export class Provider extends EventEmitter {
    constructor(issuer: string, configuration?: object);
    issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    /** The provider's client model; the lab widens loopback matching for CIMD clients on its prototype. */
    Client: { prototype: LabClientPrototype };
    Grant: {
      new (init: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    InvalidGrant: new (description?: string) => Error;
  };

  export default Provider;
}
