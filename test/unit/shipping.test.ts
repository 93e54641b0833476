import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	defaultShippingMethod,
	shippingCharge,
	shippingMethodInputProblems,
	shippingMethodsFor,
	shipsTo,
	type ShippingMethod,
} from "../../lib/domain/shipping.js";

const method = (id: string, over: Partial<ShippingMethod> = {}): ShippingMethod => ({
	id,
	name: `Method ${id}`,
	countries: ["DE"],
	price: 500,
	currency: "EUR",
	minDays: 1,
	maxDays: 3,
	...over,
});
const ids = (ms: ShippingMethod[]) => ms.map(m => m.id);

describe("shipping methods offered", () => {
	const methods = [
		method("express", { name: "Express", price: 1500 }),
		method("world", { name: "World", countries: ["*"], price: 2500 }),
		method("standard", { name: "Standard", countries: ["DE", "AT"], price: 490, freeOver: 5000 }),
		method("pickup", { name: "Pickup", price: 0, active: false }),
		method("usd", { name: "US post", countries: ["*"], price: 100, currency: "USD" }),
		method("fr", { name: "Colissimo", countries: ["FR"], price: 300 }),
	];

	it("are the active ones that ship there in the order's currency, cheapest first", () => {
		expect(ids(shippingMethodsFor(methods, "DE", "EUR"))).toEqual(["standard", "express", "world"]);
		expect(ids(shippingMethodsFor(methods, "AT", "EUR"))).toEqual(["standard", "world"]);
		expect(ids(shippingMethodsFor(methods, "FR", "EUR"))).toEqual(["fr", "world"]);
		expect(ids(shippingMethodsFor(methods, "JP", "EUR"))).toEqual(["world"]);
		expect(ids(shippingMethodsFor(methods, "JP", "USD"))).toEqual(["usd"]);
		expect(ids(shippingMethodsFor(methods, "JP", "GBP"))).toEqual([]);
	});

	it("count a method without `active` as active and one with active: false as not", () => {
		expect(ids(shippingMethodsFor([method("a"), method("b", { active: true }), method("c", { active: false })], "DE", "EUR"))).toEqual(["a", "b"]);
	});

	it("break price ties by name, then by id, in code-unit order", () => {
		const tied = [method("b2", { name: "Same" }), method("z", { name: "Alpha" }), method("b1", { name: "Same" }), method("a", { name: "beta" })];
		// "Alpha" < "Same" < "beta": upper case sorts before lower case in code units.
		expect(ids(shippingMethodsFor(tied, "DE", "EUR"))).toEqual(["z", "b1", "b2", "a"]);
		expect(ids(shippingMethodsFor([...tied].reverse(), "DE", "EUR"))).toEqual(["z", "b1", "b2", "a"]);
	});

	it("with a goods total, put a method that is free for it first", () => {
		expect(ids(shippingMethodsFor(methods, "DE", "EUR", 4999))).toEqual(["standard", "express", "world"]);
		const freeExpress = [method("cheap", { price: 300 }), method("express", { price: 900, freeOver: 3000 })];
		expect(ids(shippingMethodsFor(freeExpress, "DE", "EUR"))).toEqual(["cheap", "express"]);
		expect(ids(shippingMethodsFor(freeExpress, "DE", "EUR", 2999))).toEqual(["cheap", "express"]);
		expect(ids(shippingMethodsFor(freeExpress, "DE", "EUR", 3000))).toEqual(["express", "cheap"]);
		// Both free: the one with the lower list price first.
		const bothFree = [method("x", { price: 900, freeOver: 10 }), method("y", { price: 300, freeOver: 10 })];
		expect(ids(shippingMethodsFor(bothFree, "DE", "EUR", 10))).toEqual(["y", "x"]);
	});

	it("default to the cheapest, or to none", () => {
		expect(defaultShippingMethod(methods, "DE", "EUR")?.id).toBe("standard");
		expect(defaultShippingMethod(methods, "JP", "EUR")?.id).toBe("world");
		expect(defaultShippingMethod(methods, "JP", "GBP")).toBeNull();
		expect(defaultShippingMethod([], "DE", "EUR")).toBeNull();
	});

	it("do not change the list they were given", () => {
		const copy = structuredClone(methods);
		shippingMethodsFor(methods, "DE", "EUR", 10_000);
		expect(methods).toEqual(copy);
	});

	it("know where a method ships", () => {
		expect(shipsTo({ countries: ["*"] }, "NZ")).toBe(true);
		expect(shipsTo({ countries: ["DE", "AT"] }, "AT")).toBe(true);
		expect(shipsTo({ countries: ["DE", "AT"] }, "CH")).toBe(false);
	});

	it("are each offered once, ordered by charge, for any list", () => {
		const arbMethod: fc.Arbitrary<ShippingMethod> = fc.record({
			id: fc.string({ minLength: 1, maxLength: 4 }),
			name: fc.string({ maxLength: 4 }),
			countries: fc.oneof(fc.constant<string[]>(["*"]), fc.subarray<string>(["DE", "AT", "FR"], { minLength: 1 })),
			price: fc.integer({ min: 0, max: 3000 }),
			currency: fc.constantFrom("EUR", "USD"),
			freeOver: fc.option(fc.integer({ min: 1, max: 10_000 })),
			minDays: fc.constant(1),
			maxDays: fc.constant(2),
			active: fc.option(fc.boolean(), { nil: undefined }),
		});
		fc.assert(
			fc.property(
				fc.array(arbMethod, { maxLength: 12 }),
				fc.constantFrom("DE", "AT", "FR", "US"),
				fc.option(fc.integer({ min: 0, max: 12_000 }), { nil: undefined }),
				(ms, country, goods) => {
					const offered = shippingMethodsFor(ms, country, "EUR", goods);
					const expected = ms.filter(m => m.active !== false && m.currency === "EUR" && (m.countries.includes("*") || m.countries.includes(country)));
					expect(offered.length).toBe(expected.length);
					for (const m of expected) expect(offered).toContain(m);
					const cost = (m: ShippingMethod) => (goods === undefined ? m.price : shippingCharge(m, goods));
					for (let i = 1; i < offered.length; i++) expect(cost(offered[i - 1]!)).toBeLessThanOrEqual(cost(offered[i]!));
					expect(defaultShippingMethod(ms, country, "EUR", goods)).toBe(offered[0] ?? null);
				},
			),
			{ numRuns: 300 },
		);
	});
});

describe("shipping charge", () => {
	it("is the price, and 0 once the goods after the discount reach freeOver", () => {
		const m = method("s", { price: 490, freeOver: 5000 });
		expect(shippingCharge(m, 0)).toBe(490);
		expect(shippingCharge(m, 4999)).toBe(490);
		expect(shippingCharge(m, 5000)).toBe(0);
		expect(shippingCharge(m, 5001)).toBe(0);
	});

	it("is never free without a threshold", () => {
		expect(shippingCharge(method("s", { freeOver: null }), 1_000_000_000)).toBe(500);
		expect(shippingCharge(method("s"), 1_000_000_000)).toBe(500);
		expect(shippingCharge(method("s", { price: 0 }), 0)).toBe(0);
	});

	it("refuses a goods total that is not an amount", () => {
		expect(() => shippingCharge(method("s"), -1)).toThrow(RangeError);
		expect(() => shippingCharge(method("s"), 0.5)).toThrow(RangeError);
		expect(() => shippingCharge(method("s", { price: -1 }), 10)).toThrow(RangeError);
	});
});

describe("shipping method input", () => {
	const good = { name: "Standard", countries: ["DE", "AT"], price: 490, currency: "EUR", freeOver: 5000, minDays: 1, maxDays: 3 };
	const fields = (input: Record<string, unknown>) => shippingMethodInputProblems(input).map(p => p.field);

	it("accepts a well-formed method", () => {
		expect(shippingMethodInputProblems(good)).toEqual([]);
		expect(shippingMethodInputProblems({ ...good, countries: ["*"], freeOver: null, price: 0, minDays: 0, maxDays: 0, active: false })).toEqual([]);
		expect(shippingMethodInputProblems({ ...good, freeOver: undefined, minDays: 3, maxDays: 3 })).toEqual([]);
	});

	it("wants a name of 1 to 100 characters", () => {
		expect(fields({ ...good, name: "" })).toEqual(["name"]);
		expect(fields({ ...good, name: "   " })).toEqual(["name"]);
		expect(fields({ ...good, name: "x".repeat(101) })).toEqual(["name"]);
		expect(fields({ ...good, name: 5 })).toEqual(["name"]);
	});

	it('wants countries: known codes, each once, or ["*"] alone', () => {
		expect(fields({ ...good, countries: [] })).toEqual(["countries"]);
		expect(fields({ ...good, countries: "DE" })).toEqual(["countries"]);
		expect(fields({ ...good, countries: ["*", "DE"] })).toEqual(["countries"]);
		expect(fields({ ...good, countries: ["DE", "XX", "de", 7] })).toEqual(["countries.1", "countries.2", "countries.3"]);
		expect(shippingMethodInputProblems({ ...good, countries: ["DE", "AT", "DE"] })).toEqual([
			{ field: "countries.2", message: "DE is listed twice.", type: "duplicate" },
		]);
	});

	it("wants a price and a threshold in minor units, and a currency", () => {
		for (const price of [-1, 4.9, "490", 1_000_000_001]) expect(fields({ ...good, price })).toEqual(["price"]);
		for (const freeOver of [0, -1, 49.5, "5000"]) expect(fields({ ...good, freeOver })).toEqual(["freeOver"]);
		for (const currency of ["eur", "EURO", undefined]) expect(fields({ ...good, currency })).toEqual(["currency"]);
	});

	it("wants whole days, minDays ≤ maxDays", () => {
		expect(fields({ ...good, minDays: 4, maxDays: 3 })).toEqual(["maxDays"]);
		expect(shippingMethodInputProblems({ ...good, minDays: 4, maxDays: 3 })[0]?.type).toBe("dayOrder");
		expect(fields({ ...good, minDays: -1 })).toEqual(["minDays"]);
		expect(fields({ ...good, maxDays: 1.5 })).toEqual(["maxDays"]);
		expect(fields({ ...good, maxDays: 366 })).toEqual(["maxDays"]);
		expect(fields({ ...good, minDays: undefined, maxDays: undefined })).toEqual(["minDays", "maxDays"]);
	});

	it("wants active to be a boolean when given, and reports every problem at once", () => {
		expect(fields({ ...good, active: "no" })).toEqual(["active"]);
		expect(fields({})).toEqual(["name", "countries", "price", "currency", "minDays", "maxDays"]);
	});
});
