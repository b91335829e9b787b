import { expect, request, type Page } from "@playwright/test";

export const ADMIN = { username: "admin", password: "e2e-admin-password" };

/** Waits until the wasm app has hydrated the page: clicks before that would be lost. */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Logs in through the form and waits for the fleet page. */
export async function logIn(page: Page, username = ADMIN.username, password = ADMIN.password) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
}

/** The demo fleet's simulator (playwright.config.ts puts it next to the server's port). */
export const SIMULATOR = `https://127.0.0.1:${Number(process.env.FLOTILLA_E2E_PORT ?? 3917) + 1}`;

/** Adds a simulated cluster to the demo simulator and answers its kubeconfig. */
export async function newSimulatedCluster(name: string): Promise<string> {
  const api = await request.newContext({ ignoreHTTPSErrors: true });
  const added = await api.post(`${SIMULATOR}/admin/clusters`, { data: { name } });
  expect(added.status()).toBe(201);
  const kubeconfig = await (await api.get(`${SIMULATOR}/admin/clusters/${name}/kubeconfig`)).text();
  await api.dispose();
  return kubeconfig;
}
