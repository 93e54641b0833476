/**
 * The Kubernetes manifests (deploy/k8s: kustomize base + overlays) render, validate against the
 * Kubernetes schemas in strict mode (unknown fields refused) with kubernetes-validate, and keep
 * the promises docs/operations.md makes: a Deployment, PDB and HPA per node type, probes on the
 * metrics port, rolling updates that never go below the wanted pods, a grace period above
 * STOP_TIMEOUT_MS, secrets only by reference, and only the gateway open to outside traffic.
 *
 * Tools: kustomize (scripts/install-kustomize.sh builds it with Go; `kubectl kustomize` does too)
 * and kubernetes-validate (scripts/install-kubernetes-validate.sh, a virtualenv of its own).
 * Without them the file skips with a message; under REQUIRE_INFRA=1 it fails.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { missingTools } from "../cluster/infra.js";

const CACHE = process.env.SHOP_CACHE ?? path.join(os.homedir(), ".cache", "shop");
const KUSTOMIZE = process.env.KUSTOMIZE_BIN ?? path.join(CACHE, "kustomize-v5.5.0", "kustomize");
const VALIDATE = process.env.KUBERNETES_VALIDATE_BIN ?? path.join(CACHE, "kubernetes-validate-1.37.0", "bin", "kubernetes-validate");
const OVERLAYS = ["production", "staging"];
const NODE_TYPES = ["users", "products", "orders", "tickets", "notifications", "webhooks", "media", "reports", "api"];

/** The renderer: the built kustomize, else kustomize on PATH, else kubectl's. */
function renderer(): string[] | null {
	if (fs.existsSync(KUSTOMIZE)) return [KUSTOMIZE, "build"];
	if (missingTools(["kustomize"]).length === 0) return ["kustomize", "build"];
	if (missingTools(["kubectl"]).length === 0) return ["kubectl", "kustomize"];
	return null;
}
const render = renderer();
const missing = [
	...(render ? [] : ["kustomize (scripts/install-kustomize.sh)"]),
	...(fs.existsSync(VALIDATE) ? [] : ["kubernetes-validate (scripts/install-kubernetes-validate.sh)"]),
];
if (missing.length > 0) {
	const msg = `not installed: ${missing.join(", ")}`;
	if (process.env.REQUIRE_INFRA === "1") throw new Error(`REQUIRE_INFRA=1 and ${msg}`);
	console.warn(`SKIPPED Kubernetes manifest checks: ${msg}`);
}

interface Resource {
	kind: string;
	metadata: { name: string; namespace?: string; labels?: Record<string, string> };
	spec?: any;
	data?: Record<string, string>;
}

function build(overlay: string): { yaml: string; resources: Resource[] } {
	const [cmd, ...args] = render!;
	const yaml = execFileSync(cmd!, [...args, `deploy/k8s/overlays/${overlay}`], { encoding: "utf8", timeout: 60_000 });
	// Parsed by the PyYAML of kubernetes-validate's virtualenv (the repo has no YAML parser of its own).
	const json = spawnSync(
		path.join(path.dirname(VALIDATE), "python"),
		["-c", "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"],
		{ input: yaml, encoding: "utf8" },
	);
	expect(json.status, json.stderr).toBe(0);
	return { yaml, resources: JSON.parse(json.stdout) as Resource[] };
}

describe.skipIf(missing.length > 0)("Kubernetes manifests (deploy/k8s)", () => {
	for (const overlay of OVERLAYS) {
		describe(`overlay ${overlay}`, () => {
			const { yaml, resources } = build(overlay);
			const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "k8s-")), `${overlay}.yaml`);
			fs.writeFileSync(file, yaml);
			const of = (kind: string) => resources.filter(r => r.kind === kind);
			const byName = (kind: string, name: string) => of(kind).find(r => r.metadata.name === name);

			it("validates against the Kubernetes schemas in strict mode", () => {
				const run = spawnSync(VALIDATE, ["--strict", "--quiet", file], { encoding: "utf8", timeout: 120_000 });
				expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
				expect(`${run.stdout}${run.stderr}`).not.toMatch(/ERROR|Couldn't find schema/);
			});

			it("has a Deployment, a PodDisruptionBudget and an HPA per node type", () => {
				for (const t of NODE_TYPES) {
					expect(byName("Deployment", `shop-${t}`), t).toBeDefined();
					expect(byName("PodDisruptionBudget", `shop-${t}`), t).toBeDefined();
					expect(byName("HorizontalPodAutoscaler", `shop-${t}`)?.spec.scaleTargetRef.name, t).toBe(`shop-${t}`);
				}
			});

			it("probes /ready and /live on the metrics port, rolls with maxUnavailable 0 and stops within the grace period", () => {
				const config = of("ConfigMap").find(c => c.metadata.name.startsWith("shop-config"))!;
				const stopMs = Number(config.data!.STOP_TIMEOUT_MS);
				expect(stopMs).toBeGreaterThan(0);
				for (const d of of("Deployment")) {
					const pod = d.spec.template.spec;
					const [c] = pod.containers;
					expect(c.readinessProbe.httpGet, d.metadata.name).toEqual({ path: "/ready", port: "metrics" });
					expect(c.livenessProbe.httpGet, d.metadata.name).toEqual({ path: "/live", port: "metrics" });
					expect(c.ports.find((p: { name: string }) => p.name === "metrics").containerPort).toBe(Number(config.data!.METRICS_PORT));
					expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
					expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(stopMs + Number(config.data!.DRAIN_DELAY_MS ?? 0) / 2);
					expect(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, d.metadata.name).toBeTruthy();
				}
			});

			it("takes secrets only by reference, with no value in any manifest", () => {
				expect(of("Secret")).toEqual([]);
				const refs = new Set<string>();
				for (const d of of("Deployment"))
					for (const e of d.spec.template.spec.containers[0].env as {
						name: string;
						value?: string;
						valueFrom?: { secretKeyRef?: { name: string } };
					}[]) {
						if (e.valueFrom?.secretKeyRef) refs.add(`${e.valueFrom.secretKeyRef.name}/${e.name}`);
						if (/KEY|SECRET|PASSWORD|MONGO_URL|SMTP_URL/.test(e.name))
							expect(e.valueFrom?.secretKeyRef, `${d.metadata.name} ${e.name}`).toBeDefined();
					}
				expect([...refs].sort()).toEqual(
					[
						"shop-database/MONGO_URL",
						"shop-jwt/JWT_PRIVATE_KEY",
						"shop-oidc/OIDC_COOKIE_KEYS",
						"shop-payments/STRIPE_SECRET_KEY",
						"shop-payments/STRIPE_WEBHOOK_SECRET",
						"shop-smtp/SMTP_URL",
					].sort(),
				);
				const config = JSON.stringify(of("ConfigMap"));
				expect(config).not.toMatch(/PRIVATE_KEY|PASSWORD|SECRET|MONGO_URL|SMTP_URL/);
			});

			it("lets only the gateway take outside traffic", () => {
				expect(of("Service").map(s => s.metadata.name)).toEqual(["shop-api"]);
				expect(of("Ingress").map(i => i.spec.rules[0].http.paths[0].backend.service.name)).toEqual(["shop-api"]);
				const policies = of("NetworkPolicy").filter(p => p.spec.policyTypes.includes("Ingress"));
				const deny = policies.find(p => p.spec.ingress === undefined)!;
				expect(deny.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/part-of": "moleculer-shop" });
				// Every pod is under the deny-all policy; the only other policies open the gateway's port and the metrics port.
				for (const d of of("Deployment")) expect(d.spec.template.metadata.labels["app.kubernetes.io/part-of"]).toBe("moleculer-shop");
				const opened = policies
					.filter(p => p !== deny)
					.map(p => ({ pods: p.spec.podSelector.matchLabels, ports: p.spec.ingress.flatMap((i: any) => i.ports.map((x: any) => x.port)) }));
				expect(opened).toEqual(
					expect.arrayContaining([
						{ pods: { "app.kubernetes.io/name": "shop-api" }, ports: ["http"] },
						{ pods: { "app.kubernetes.io/part-of": "moleculer-shop" }, ports: ["metrics"] },
					]),
				);
				expect(opened).toHaveLength(2);
			});

			it("lets only webhooks (443, 80), orders (443) and notifications (SMTP) out to the internet, never to private addresses", () => {
				const egress = of("NetworkPolicy").filter(p => p.spec.policyTypes.includes("Egress"));
				// Every pod is under the default egress policy, which reaches nothing outside the cluster.
				const fallback = egress.find(p => p.spec.podSelector.matchLabels?.["app.kubernetes.io/part-of"] === "moleculer-shop")!;
				expect(fallback).toBeDefined();
				expect(JSON.stringify(fallback.spec.egress)).not.toContain("ipBlock");
				const internet: Record<string, number[]> = {};
				for (const p of egress) {
					for (const rule of p.spec.egress as { to?: { ipBlock?: { cidr: string; except?: string[] } }[]; ports?: { port: number }[] }[]) {
						const blocks = (rule.to ?? []).filter(t => t.ipBlock).map(t => t.ipBlock!);
						if (blocks.length === 0) continue;
						expect(p.spec.podSelector.matchLabels["app.kubernetes.io/name"], p.metadata.name).toBeDefined();
						for (const b of blocks) {
							const closed = b.cidr.includes(":")
								? ["fc00::/7", "fe80::/10"]
								: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];
							expect(b.except, `${p.metadata.name} ${b.cidr}`).toEqual(expect.arrayContaining(closed));
						}
						const name = p.spec.podSelector.matchLabels["app.kubernetes.io/name"] as string;
						internet[name] = [...(internet[name] ?? []), ...(rule.ports ?? []).map(x => x.port)].sort((a, b) => a - b);
					}
				}
				expect(internet).toEqual({ "shop-webhooks": [80, 443], "shop-orders": [443], "shop-notifications": [25, 465, 587] });
				// The webhooks node never runs with private targets allowed.
				const hooks = byName("Deployment", "shop-webhooks")!.spec.template.spec.containers[0].env as { name: string }[];
				expect(hooks.map(e => e.name)).not.toContain("WEBHOOKS_ALLOW_PRIVATE_TARGETS");
				expect(JSON.stringify(of("ConfigMap"))).not.toContain("WEBHOOKS_ALLOW_PRIVATE_TARGETS");
			});
		});
	}
});
