// ESLint for the whole repository (flat config): typescript-eslint's recommended rules, with
// Prettier owning the formatting (eslint-config-prettier switches the stylistic rules off).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
	{ ignores: ["node_modules/", "dist/", "web/dist/", "data/", ".infra/", "coverage/", "bench/results/", "test/e2e/artifacts/", "**/*.d.ts"] },
	js.configs.recommended,
	...tseslint.configs.recommended,
	prettier,
	{
		languageOptions: {
			ecmaVersion: 2023,
			sourceType: "module",
			globals: {
				process: "readonly",
				console: "readonly",
				Buffer: "readonly",
				setTimeout: "readonly",
				clearTimeout: "readonly",
				setInterval: "readonly",
				clearInterval: "readonly",
				URL: "readonly",
				fetch: "readonly",
			},
		},
		rules: {
			"@typescript-eslint/no-unused-vars": [
				"error",
				{ argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
			],
			"@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
			"no-constant-condition": ["error", { checkLoops: false }],
		},
	},
	{
		// Domain code states its types: no `any` (tests and glue may cast at the edges).
		files: ["lib/**/*.ts", "services/**/*.ts", "mixins/**/*.ts"],
		rules: { "@typescript-eslint/no-explicit-any": "error" },
	},
	{
		files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts"],
		rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
	},
	{
		files: ["web/**/*.{ts,tsx}"],
		languageOptions: {
			globals: {
				window: "readonly",
				document: "readonly",
				localStorage: "readonly",
				navigator: "readonly",
				location: "readonly",
				history: "readonly",
				HTMLElement: "readonly",
				Event: "readonly",
				KeyboardEvent: "readonly",
				AbortController: "readonly",
				crypto: "readonly",
			},
		},
	},
);
