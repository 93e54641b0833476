/** The part of oidc-provider (v9, no bundled types) this project uses. */
declare module "oidc-provider" {
	import type { IncomingMessage, ServerResponse } from "node:http";

	export interface KoaContextWithOIDC {
		oidc: {
			route?: string;
			params?: Record<string, unknown>;
			client?: { clientId: string; clientName?: string; [k: string]: unknown };
			session?: { accountId?: string };
			account?: { accountId: string };
			entities: Record<string, unknown>;
		};
		body: unknown;
		type: string;
		status: number;
		path: string;
		method: string;
		get(header: string): string;
		set(header: string, value: string): void;
		[k: string]: unknown;
	}

	export interface InteractionDetails {
		uid: string;
		prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
		params: Record<string, unknown>;
		session?: { accountId: string; uid: string };
		grantId?: string;
		lastSubmission?: Record<string, unknown>;
	}

	export interface Grant {
		addOIDCScope(scope: string): void;
		addOIDCClaims(claims: string[]): void;
		addResourceScope(resource: string, scope: string): void;
		save(): Promise<string>;
	}

	export class Provider {
		constructor(issuer: string, configuration: Record<string, unknown>);
		proxy: boolean;
		callback(): (req: IncomingMessage, res: ServerResponse) => void;
		use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
		on(event: string, listener: (...args: never[]) => void): void;
		interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
		interactionFinished(
			req: IncomingMessage,
			res: ServerResponse,
			result: Record<string, unknown>,
			options?: { mergeWithLastSubmission?: boolean },
		): Promise<void>;
		interactionResult(
			req: IncomingMessage,
			res: ServerResponse,
			result: Record<string, unknown>,
			options?: { mergeWithLastSubmission?: boolean },
		): Promise<string>;
		Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
		Client: { find(id: string): Promise<{ clientId: string; clientName?: string; [k: string]: unknown } | undefined> };
	}

	export const errors: Record<string, new (description?: string) => Error>;
	export default Provider;
}
