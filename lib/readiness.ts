/**
 * Is this node ready to serve? Its transporter is connected, every local service that keeps
 * a database answers, the event bus answers, no outbox holds more than OUTBOX_BACKLOG_MAX
 * unpublished events, and every local service's own checks pass (the gateway's: every service it
 * routes to is there). Used by GET /api/ready (public: only the names of failing checks),
 * `:METRICS_PORT/ready` and the `$node.ready` action (the detailed report).
 */
import type { ServiceBroker, Service } from "moleculer";
import type { Static } from "typebox";
import type { Readiness } from "./http/schemas.js";
import { currentBus } from "./events/registry.js";
import { backlogCheck } from "./observability/outbox.js";
import { recordReadiness } from "./observability/metrics.js";

export interface ReadyCheck {
	ok: boolean;
	detail?: string;
}

export interface ReadinessReport {
	ready: boolean;
	nodeID: string;
	checks: Record<string, ReadyCheck>;
}

/** What anyone may see: whether the node is ready and which checks fail, no details. */
export type PublicReadiness = Static<typeof Readiness>;

/** A service's own readiness checks (the gateway implements it). */
export interface ReadinessContributor {
	readinessChecks(): Record<string, ReadyCheck> | Promise<Record<string, ReadyCheck>>;
}

type Check = () => Promise<ReadyCheck>;

async function withTimeout(check: Check, ms: number): Promise<ReadyCheck> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			check(),
			new Promise<ReadyCheck>(resolve => {
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
	if (!broker.started) checks.broker = { ok: false, detail: "starting" };
	for (const svc of broker.services as (Service & { readiness?: Check; outboxBacklog?: () => Promise<number> } & Partial<ReadinessContributor>)[]) {
		if (typeof svc.readiness === "function") checks[`database:${svc.name}`] = await withTimeout(() => svc.readiness!.call(svc), timeoutMs);
		if (typeof svc.outboxBacklog === "function")
			checks[`outbox:${svc.name}`] = await withTimeout(async () => backlogCheck(await svc.outboxBacklog!.call(svc)), timeoutMs);
		if (typeof svc.readinessChecks === "function") Object.assign(checks, await svc.readinessChecks.call(svc));
	}
	const transport = currentBus(broker);
	if (transport) checks[`events:${transport.kind}`] = await withTimeout(() => transport.health(), timeoutMs);
	const ready = Object.values(checks).every(c => c.ok);
	recordReadiness(broker, ready, checks);
	return { ready, nodeID: broker.nodeID, checks };
}

export function publicReadiness(report: ReadinessReport): PublicReadiness {
	const failing = Object.entries(report.checks)
		.filter(([, c]) => !c.ok)
		.map(([name]) => name);
	return { status: report.ready ? "ready" : "not ready", failing };
}
