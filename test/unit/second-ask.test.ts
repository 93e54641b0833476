/** Which search pages the gateway keeps (lib/http/cache/second-ask.ts): those asked again within the list TTL. */
import { describe, expect, it } from "vitest";
import { SecondAsk } from "../../lib/http/cache/second-ask.js";

describe("SecondAsk", () => {
	it("says a key was asked again only when its last ask is within the window", () => {
		const asks = new SecondAsk(1000);
		expect(asks.askedAgain("q=lamp", 0)).toBe(false);
		expect(asks.askedAgain("q=lamp", 1000)).toBe(true);
		expect(asks.askedAgain("q=chair", 1000)).toBe(false);
		// Each ask starts the window again.
		expect(asks.askedAgain("q=lamp", 1900)).toBe(true);
		expect(asks.askedAgain("q=lamp", 3000)).toBe(false);
	});

	it("remembers at most `max` keys, forgetting the least recently asked first", () => {
		const asks = new SecondAsk(10_000, 2);
		asks.askedAgain("a", 0);
		asks.askedAgain("b", 1);
		asks.askedAgain("a", 2); // a is now the most recent
		asks.askedAgain("c", 3); // b goes
		expect(asks.size).toBe(2);
		expect(asks.askedAgain("b", 4)).toBe(false);
		expect(asks.askedAgain("c", 5)).toBe(true);
	});
});
