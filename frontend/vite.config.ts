/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

// The built SPA is served by FastAPI from src/dualrec/web/dist.
// `npm run dev` proxies the API to a locally running `dualrec serve` (default port 8000).
const apiTarget = process.env.DUALREC_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [vue()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL("../src/dualrec/web/dist", import.meta.url)),
    emptyOutDir: true,
    // On a busy 2-core machine every build is "slow"; the timing report is noise there.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    proxy: { "/api": { target: apiTarget, changeOrigin: false } },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
