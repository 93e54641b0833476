import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["test/**/*.test.ts"],
		environment: "node",
		// In-process shops bind ports and write temp dirs; files run in parallel, tests in a file in order.
		pool: "forks",
		testTimeout: 30_000,
		hookTimeout: 60_000,
		reporters: ["default"],
	},
});
