/**
 * What an operator reaches from the Moleculer REPL (npm run repl, or npm start -- --repl):
 *
 * - `$node.ready` on every node (Moleculer's internal `$node` service, extended through the
 *   `internalServices` broker option): the readiness report of lib/readiness.ts;
 * - the REPL commands `ready [nodeID]` (readiness of every node, or one) and
 *   `shop-metrics [nodeID] [--all]` (the shop_* series of every node, through Moleculer's own
 *   `$node.metrics`), next to the built-in `nodes`, `services`, `actions`, `call`, `dcall`,
 *   `emit`, `metrics`.
 */
import type { BrokerOptions, ServiceBroker, ServiceSchema } from "moleculer";
import { checkReadiness, type ReadinessReport } from "../readiness.js";

/** The additions to `$node`, for the `internalServices` broker option. */
export function nodeServiceSchema(): ServiceSchema {
	return {
		name: "$node",
		actions: {
			ready: {
				cache: false,
				tracing: false,
				handler(this: { broker: ServiceBroker }) {
					return checkReadiness(this.broker);
				},
			},
		},
	} as ServiceSchema;
}

interface NodeInfo {
	id: string;
	available: boolean;
}

async function targetNodes(broker: ServiceBroker, nodeID?: string): Promise<string[]> {
	if (nodeID) return [nodeID];
	const nodes = (await broker.call("$node.list", { onlyAvailable: true }, { nodeID: broker.nodeID })) as NodeInfo[];
	return nodes
		.filter(n => n.available)
		.map(n => n.id)
		.sort();
}

/** Readiness of each node, asked in parallel; a node that does not answer is reported as such. */
export async function clusterReadiness(broker: ServiceBroker, nodeID?: string): Promise<{ nodeID: string; report?: ReadinessReport; error?: string }[]> {
	const ids = await targetNodes(broker, nodeID);
	return Promise.all(
		ids.map(async id => {
			try {
				return { nodeID: id, report: (await broker.call("$node.ready", {}, { nodeID: id, timeout: 5000 })) as ReadinessReport };
			} catch (err) {
				return { nodeID: id, error: (err as Error).message };
			}
		}),
	);
}

interface MetricSnapshot {
	name: string;
	type: string;
	values: { labels: Record<string, unknown>; value?: number; count?: number; sum?: number; quantiles?: Record<string, number> }[];
}

function labelText(labels: Record<string, unknown>): string {
	const parts = Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`);
	return parts.length ? `{${parts.join(",")}}` : "";
}

function valueText(v: MetricSnapshot["values"][number]): string {
	if (v.value !== undefined) return String(v.value);
	const p95 = v.quantiles?.["0.95"];
	return `count=${v.count ?? 0}${p95 !== undefined ? ` p95=${p95.toFixed(3)}` : ""}`;
}

type Print = (line: string) => void;
type ReplCustomCommand = NonNullable<NonNullable<BrokerOptions["replOptions"]>["customCommands"]>[number];

/** REPL commands for the `replOptions.customCommands` broker option. */
export function replCommands(print: Print = line => console.log(line)): ReplCustomCommand[] {
	const commands = [
		{
			command: "ready [nodeID]",
			description: "Readiness (transporter, databases, events, outbox) of every node, or of one",
			async action(broker: ServiceBroker, args: { nodeID?: string }) {
				for (const r of await clusterReadiness(broker, args.nodeID)) {
					if (r.error) {
						print(`${r.nodeID}: NO ANSWER (${r.error})`);
						continue;
					}
					print(`${r.nodeID}: ${r.report!.ready ? "READY" : "NOT READY"}`);
					for (const [name, c] of Object.entries(r.report!.checks)) print(`  ${c.ok ? "ok  " : "FAIL"} ${name}${c.detail ? `: ${c.detail}` : ""}`);
				}
			},
		},
		{
			command: "shop-metrics [nodeID]",
			description: "The shop_* metrics of every node with metrics on, or of one (--all: every metric)",
			options: [{ option: "-a, --all", description: "all metrics, not only shop_*" }],
			async action(broker: ServiceBroker, args: { nodeID?: string; options?: { all?: boolean } }) {
				for (const id of await targetNodes(broker, args.nodeID)) {
					let list: MetricSnapshot[];
					try {
						list = (await broker.call("$node.metrics", args.options?.all ? {} : { includes: "shop_*" }, {
							nodeID: id,
							timeout: 5000,
						})) as MetricSnapshot[];
					} catch (err) {
						print(`${id}: ${(err as Error).message}`);
						continue;
					}
					print(`${id}:`);
					for (const m of list.sort((a, b) => a.name.localeCompare(b.name))) {
						if (m.values.length === 0) continue;
						for (const v of m.values) print(`  ${m.name}${labelText(v.labels)} ${valueText(v)}`);
					}
				}
			},
		},
	];
	// moleculer-repl passes the parsed arguments as an object; Moleculer's typings say string[].
	return commands as unknown as ReplCustomCommand[];
}
