/**
 * Is this node ready to serve? Its transporter is connected, every local service that keeps
 * a database answers, the event transport answers, and no outbox holds more than
 * OUTBOX_BACKLOG_MAX unpublished events. Used by GET /api/ready and the `$node.ready` action.
 */
import type { ServiceBroker, Service } from "moleculer";
import { currentTransport } from "./events/registry.js";
import { backlogCheck } from "./observability/outbox.js";

export interface ReadinessReport {
	ready: boolean;
	nodeID: string;
	checks: Record<string, { ok: boolean; detail?: string }>;
}

type ReadyCheck = () => Promise<{ ok: boolean; detail?: string }>;

async function withTimeout(check: ReadyCheck, ms: number): Promise<{ ok: boolean; detail?: string }> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			check(),
			new Promise<{ ok: boolean; detail: string }>(resolve => {
				timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
			}),
		]);
	} catch (err) {
		return { ok: false, detail: (err as Error).message };
	} finally {
		if (timer) clearTimeout(timer);
	}
}

export async function checkReadiness(broker: ServiceBroker, timeoutMs = 2000): Promise<ReadinessReport> {
	const checks: ReadinessReport["checks"] = {};
	if (broker.transit) {
		checks.transporter = { ok: !!broker.transit.connected, ...(broker.transit.connected ? {} : { detail: "not connected" }) };
	}
	for (const svc of broker.services as (Service & { readiness?: ReadyCheck; outboxBacklog?: () => Promise<number> })[]) {
		if (typeof svc.readiness === "function") checks[`database:${svc.name}`] = await withTimeout(() => svc.readiness!.call(svc), timeoutMs);
		if (typeof svc.outboxBacklog === "function") checks[`outbox:${svc.name}`] = await withTimeout(async () => backlogCheck(await svc.outboxBacklog!.call(svc)), timeoutMs);
	}
	const transport = currentTransport(broker);
	if (transport) checks[`events:${transport.kind}`] = await withTimeout(() => transport.health(), timeoutMs);
	return { ready: Object.values(checks).every(c => c.ok), nodeID: broker.nodeID, checks };
}
