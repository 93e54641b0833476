/**
 * The rules that make a dependency's outage a wait, not a loss: an event whose handler fails
 * because a dependency is away is tried again until it is back (never dead-lettered), and a
 * database that cannot be reached is a retryable 503 (never a 500).
 */
import { describe, expect, it } from "vitest";
import { Errors } from "moleculer";
import mongoose from "mongoose";
import { DEFAULT_RETRY, HandlerTries, InProcessBus, isTransient } from "../../lib/events/bus.js";
import { isDatabaseUnreachable } from "../../lib/store/mongo.js";
import { unavailable } from "../../lib/errors.js";
import { toClientError } from "../../lib/http/errors.js";
import type { EventEnvelope } from "../../lib/contracts/events.js";

const POLICY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 4 };

describe("an event handler's tries", () => {
	it("counts failures of the event and gives up after `attempts` of them", () => {
		const tries = new HandlerTries(POLICY);
		const broken = new Error("cannot handle this event");
		expect(tries.after(broken)).toBe(1);
		expect(tries.after(broken)).toBe(2);
		expect(tries.after(broken)).toBeUndefined();
	});

	it("never gives up while a dependency is away, and waits longer each time up to the policy's maximum", () => {
		const tries = new HandlerTries(POLICY);
		const delays = Array.from({ length: 50 }, () => tries.after(unavailable("The database is unavailable")));
		expect(delays.every(d => d !== undefined)).toBe(true);
		expect(delays.slice(0, 4)).toEqual([1, 2, 4, 4]);
		expect(Math.max(...(delays as number[]))).toBe(POLICY.maxDelayMs);
		// The wait did not use up the tries of the event itself.
		expect(tries.after(new Error("bug"))).toBe(1);
	});

	it("treats Moleculer's unreachable answers and 503s as transient, and a refusal or a bug as the event's", () => {
		expect(isTransient(new Errors.RequestTimeoutError({ action: "orders.get", nodeID: "n1" }))).toBe(true);
		expect(isTransient(new Errors.ServiceNotAvailableError({ action: "orders.get", nodeID: "n1" }))).toBe(true);
		expect(isTransient(new Errors.BrokerDisconnectedError("Broker is disconnected!"))).toBe(true);
		expect(isTransient({ name: "ServiceUnavailableError", code: 503 })).toBe(true);
		expect(isTransient(new Errors.MoleculerClientError("bad", 422, "INVALID"))).toBe(false);
		expect(isTransient(new TypeError("x is undefined"))).toBe(false);
		expect(isTransient(null)).toBe(false);
	});

	it("in process: an outage is waited out, a broken handler is dead-lettered", async () => {
		const dead: string[] = [];
		const bus = new InProcessBus(POLICY, d => dead.push(d.group));
		let calls = 0;
		await bus.subscribe("waits", ["order.placed"], async () => {
			if (++calls <= DEFAULT_RETRY.attempts + 3) throw unavailable();
		});
		await bus.subscribe("broken", ["order.placed"], async () => {
			throw new Error("bug");
		});
		await bus.publish([{ id: "e1", type: "order.placed", key: "o1", payload: {} } as unknown as EventEnvelope]);
		expect(calls).toBe(DEFAULT_RETRY.attempts + 4);
		expect(dead).toEqual(["broken"]);
	});
});

describe("an unreachable database", () => {
	it("is recognised by the driver's errors, not by a refusal of the operation", () => {
		expect(isDatabaseUnreachable(new mongoose.mongo.MongoNetworkError("connect ECONNREFUSED 127.0.0.1:27017"))).toBe(true);
		expect(isDatabaseUnreachable(new mongoose.mongo.MongoNetworkTimeoutError("connection 3 timed out"))).toBe(true);
		expect(isDatabaseUnreachable({ name: "MongoServerSelectionError", message: "connect ECONNREFUSED" })).toBe(true);
		expect(isDatabaseUnreachable({ name: "MongoPoolClearedError", message: "Connection pool was cleared" })).toBe(true);
		expect(isDatabaseUnreachable(new mongoose.mongo.MongoServerError({ message: "E11000 duplicate key", code: 11000 }))).toBe(false);
		expect(isDatabaseUnreachable(new Error("no such field"))).toBe(false);
	});

	it("reaches a client as a 503, like any dependency that is away", () => {
		expect(toClientError(unavailable("The database is unavailable: connect ECONNREFUSED")).code).toBe(503);
	});
});
