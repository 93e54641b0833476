import { describe, expect, it } from "vitest";
import { relaysNow, type RelayOwnership } from "../../lib/events/relay-owner.js";

const NOW = Date.parse("2026-12-05T12:00:00.000Z");
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const own = (alive: string[]): RelayOwnership => ({ self: "orders-1", isAlive: id => alive.includes(id), graceMs: 3000, abandonMs: 120_000 });

describe("one publisher per outbox row", () => {
	it("relays its own events, and events of envelopes that name no node (written before the rule)", () => {
		expect(relaysNow({ node: "orders-1", occurredAt: at(0) }, own(["orders-2"]), NOW)).toBe(true);
		expect(relaysNow({ occurredAt: at(0) }, own(["orders-2"]), NOW)).toBe(true);
	});

	it("leaves a live node's events to it, however many relays poll the collection", () => {
		expect(relaysNow({ node: "orders-2", occurredAt: at(0) }, own(["orders-2"]), NOW)).toBe(false);
		expect(relaysNow({ node: "orders-2", occurredAt: at(60_000) }, own(["orders-2"]), NOW)).toBe(false);
	});

	it("takes over the events of a node that is gone, after a grace for nodes not discovered yet", () => {
		expect(relaysNow({ node: "orders-9", occurredAt: at(1000) }, own(["orders-2"]), NOW)).toBe(false);
		expect(relaysNow({ node: "orders-9", occurredAt: at(3000) }, own(["orders-2"]), NOW)).toBe(true);
	});

	it("takes over any event waiting longer than the abandon limit, and never one from the future", () => {
		expect(relaysNow({ node: "orders-2", occurredAt: at(120_000) }, own(["orders-2"]), NOW)).toBe(true);
		expect(relaysNow({ node: "orders-9", occurredAt: at(-5000) }, own([]), NOW)).toBe(false);
		expect(relaysNow({ node: "orders-9", occurredAt: "not a date" }, own([]), NOW)).toBe(false);
	});
});
