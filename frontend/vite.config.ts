/// <reference types="vitest/config" />
import { readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig, type Plugin } from "vite";

// The built SPA is served by FastAPI from src/dualrec/web/dist.
// `npm run dev` proxies the API to a locally running `dualrec serve` (default port 8000).
const apiTarget = process.env.DUALREC_API ?? "http://127.0.0.1:8000";

// The customer's page runs a face model of its own (features/session/deviceModel.ts): its files come
// from the pinned npm package and are served by dualrec (no CDN). Only the files the page uses are
// copied into the build, under a path that carries the package's version (cached for good).
const humanDir = new URL("./node_modules/@vladmandic/human/", import.meta.url);
const humanVersion = (JSON.parse(readFileSync(new URL("package.json", humanDir), "utf8")) as { version: string }).version;
const HUMAN_MODEL_FILES = ["blazeface.json", "blazeface.bin", "facemesh.json", "facemesh.bin"];
// Where a device has no GPU (or only a software one) the model runs on TF.js's WebAssembly kernels:
// the package's version must be the one bundled inside human (dist/tfjs.version.js).
const wasmDir = new URL("./node_modules/@tensorflow/tfjs-backend-wasm/", import.meta.url);
const wasmVersion = (JSON.parse(readFileSync(new URL("package.json", wasmDir), "utf8")) as { version: string }).version;
const bundledWasm = /"tfjs-backend-wasm":(\w)/.exec(readFileSync(new URL("dist/tfjs.version.js", humanDir), "utf8"));
const bundledVersion = bundledWasm ? new RegExp(`var ${bundledWasm[1]}="([^"]+)"`).exec(readFileSync(new URL("dist/tfjs.version.js", humanDir), "utf8"))?.[1] : undefined;
if (bundledVersion !== wasmVersion) {
  throw new Error(`@tensorflow/tfjs-backend-wasm ${wasmVersion} does not match the ${bundledVersion ?? "?"} bundled in @vladmandic/human`);
}
const WASM_FILES = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]; // single-threaded (no cross-origin isolation)

function faceModelFiles(): Plugin {
  return {
    name: "dualrec-face-model-files",
    apply: "build",
    generateBundle() {
      for (const file of HUMAN_MODEL_FILES) {
        this.emitFile({
          type: "asset",
          fileName: `models/human-${humanVersion}/${file}`,
          source: readFileSync(new URL(`models/${file}`, humanDir)),
        });
      }
      for (const file of WASM_FILES) {
        this.emitFile({
          type: "asset",
          fileName: `models/tfjs-wasm-${wasmVersion}/${file}`,
          source: readFileSync(new URL(`dist/${file}`, wasmDir)),
        });
      }
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [vue(), faceModelFiles()],
  define: { __HUMAN_VERSION__: JSON.stringify(humanVersion), __TFJS_WASM_VERSION__: JSON.stringify(wasmVersion) },
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
