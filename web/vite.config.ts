import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// `npm run dev -w web`: hot reload on :5173, /api proxied to the shop on :3000 (npm start).
// `npm run build -w web`: hashed, bundled files in web/dist that the gateway serves (no CDN).
export default defineConfig({
	plugins: [preact()],
	build: {
		outDir: "dist",
		emptyOutDir: true,
		assetsInlineLimit: 0, // no data: URLs for scripts or styles (the CSP allows only 'self')
		sourcemap: false,
	},
	server: {
		proxy: { "/api": { target: "http://127.0.0.1:3000", changeOrigin: false } },
	},
});
