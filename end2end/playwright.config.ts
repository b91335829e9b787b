import { defineConfig, devices } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// scripts/test.sh builds the server and site, then runs this suite. The server runs from
// a fresh data dir with a known admin password, on its own port.
const port = Number(process.env.FLOTILLA_E2E_PORT ?? 3917);
const bin = process.env.FLOTILLA_BIN;
const siteRoot = process.env.FLOTILLA_SITE_ROOT;
if (!bin || !siteRoot) {
  throw new Error("run the end-to-end suite through scripts/test.sh (FLOTILLA_BIN and FLOTILLA_SITE_ROOT are unset)");
}
// The admin password the tests log in with (tests/helpers.ts has the same).
const ADMIN_PASSWORD = "e2e-admin-password";
// Two tenants' OpenID Providers (tests/helpers.ts has the same ports).
const flotilla = `http://127.0.0.1:${port}`;
const provider = (tenant: string, providerPort: number) => ({
  command: `node oidc/provider.mjs ${providerPort} ${tenant} ${flotilla}`,
  url: `http://127.0.0.1:${providerPort}/.well-known/openid-configuration`,
  reuseExistingServer: false,
  timeout: 30_000,
  stdout: "ignore" as const,
  stderr: "pipe" as const,
});

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"], ["html", { open: "never", outputFolder: "./playwright-report" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: [
    provider("acme", port + 10),
    provider("globex", port + 11),
    {
      command: bin,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        FLOTILLA_LISTEN: `127.0.0.1:${port}`,
        FLOTILLA_DATA_DIR: mkdtempSync(join(tmpdir(), "flotilla-e2e-")),
        FLOTILLA_ADMIN_PASSWORD: ADMIN_PASSWORD,
        FLOTILLA_SITE_ROOT: siteRoot,
        FLOTILLA_LOG: "info,tower_http=warn",
        FLOTILLA_DEMO: "true",
        // The small fleet: 12 clusters, nothing installed.
        FLOTILLA_DEMO_FLEET: "small",
        // The demo fleet's simulator, whose fault endpoint the tests use (tests/helpers.ts).
        FLOTILLA_DEMO_LISTEN: `127.0.0.1:${port + 1}`,
        // Its admin API's token (tests/helpers.ts has the same).
        FLOTILLA_DEMO_ADMIN_TOKEN: "e2e-simulator-admin-token",
      },
    },
  ],
});
