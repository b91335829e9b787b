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

/** A client of the demo simulator's admin API (playwright.config.ts sets its token). */
export async function simulatorAdmin() {
  return request.newContext({
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { Authorization: "Bearer e2e-simulator-admin-token" },
  });
}

/** Sets a demo cluster's faults through the simulator's admin endpoint ({} lifts them). */
export async function faults(cluster: string, body: Record<string, unknown>) {
  const api = await simulatorAdmin();
  const answer = await api.put(`${SIMULATOR}/admin/clusters/${cluster}/faults`, { data: body });
  expect(answer.ok()).toBeTruthy();
  await api.dispose();
}

/** Adds a simulated cluster to the demo simulator and answers its kubeconfig. */
export async function newSimulatedCluster(name: string, auth: "token" | "certificate" = "token"): Promise<string> {
  const api = await simulatorAdmin();
  const added = await api.post(`${SIMULATOR}/admin/clusters`, { data: { name } });
  expect(added.status()).toBe(201);
  const kubeconfig = await (await api.get(`${SIMULATOR}/admin/clusters/${name}/kubeconfig?auth=${auth}`)).text();
  await api.dispose();
  return kubeconfig;
}

/** Flotilla as the browser reaches it, and each tenant's OpenID Provider (playwright.config.ts). */
const E2E_PORT = Number(process.env.FLOTILLA_E2E_PORT ?? 3917);
export const FLOTILLA = `http://127.0.0.1:${E2E_PORT}`;
export const PROVIDERS: Record<string, string> = {
  acme: `http://127.0.0.1:${E2E_PORT + 10}`,
  globex: `http://127.0.0.1:${E2E_PORT + 11}`,
};

/**
 * Logs in through `tenant`'s own provider: the organisation's name on Flotilla's login page,
 * then the provider's sign-in form (any password) and, the first time, its consent page.
 * Ends wherever Flotilla sends the browser back to.
 */
export async function logInWithProvider(page: Page, tenant: string, username: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Organisation").fill(tenant);
  await page.getByRole("button", { name: "Continue with your organisation's login" }).click();
  await signInAtProvider(page, tenant, username);
}

/** The provider's own pages: sign in, then consent if it asks. */
export async function signInAtProvider(page: Page, tenant: string, username: string) {
  await expect(page).toHaveURL(new RegExp(`^${PROVIDERS[tenant]}/interaction/`));
  await page.locator('input[name="login"]').fill(username);
  await page.locator('input[name="password"]').fill("any-password");
  const signInPage = page.url();
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.waitForURL((url) => url.href !== signInPage);
  if (page.url().startsWith(PROVIDERS[tenant])) {
    await page.getByRole("button", { name: "Continue" }).click();
  }
  await page.waitForURL((url) => url.href.startsWith(FLOTILLA));
}

/** Calls a server function that must succeed, with the page's session; its JSON answer. */
export async function post(page: Page, endpoint: string, form: Record<string, string>) {
  const answer = await page.request.post(`/api/${endpoint}`, { form, headers: { Accept: "application/json" } });
  expect(answer.ok(), await answer.text()).toBeTruthy();
  return answer.json();
}

/** A new project `name` over the four staging clusters (in a new workspace), open on its
 *  Apps tab: the project and its install form. */
export async function stagingProjectApps(page: Page, name: string) {
  const ws = await post(page, "workspaces/create", { name: `${name}-${Date.now() % 100000}`, selector: "env=staging" });
  const project = await post(page, "projects/create", { workspace_id: ws.id, name, selector: "" });
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);
  await page.getByRole("tab", { name: /^Apps/ }).click();
  return { project, form: page.getByRole("region", { name: "Install an app" }) };
}

/** Calls a server function with the page's session, as a program would (no Origin header). */
export async function callServer(page: Page, endpoint: string, form: Record<string, string>) {
  return page.request.post(`/api/${endpoint}`, { form, headers: { Accept: "application/json" } });
}
