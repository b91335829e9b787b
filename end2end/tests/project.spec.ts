import { test, expect, request } from "@playwright/test";
import { hydrated, logIn, SIMULATOR } from "./helpers";

/** Sets a demo cluster's faults through the simulator's admin endpoint. */
async function faults(cluster: string, body: Record<string, unknown>) {
  const api = await request.newContext({ ignoreHTTPSErrors: true });
  const answer = await api.put(`${SIMULATOR}/admin/clusters/${cluster}/faults`, { data: body });
  expect(answer.ok()).toBeTruthy();
  await api.dispose();
}

/** A ConfigMap's data as the member cluster serves it (through its kubeconfig). */
async function memberConfigMap(cluster: string, namespace: string, name: string) {
  const api = await request.newContext({ ignoreHTTPSErrors: true });
  const config = await (await api.get(`${SIMULATOR}/admin/clusters/${cluster}/kubeconfig`)).json();
  const server = config.clusters[0].cluster.server;
  const token = config.users[0].user.token;
  const answer = await api.get(`${server}/api/v1/namespaces/${namespace}/configmaps/${name}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(answer.ok()).toBeTruthy();
  const data = (await answer.json()).data;
  await api.dispose();
  return data;
}

test("a ConfigMap reaches the project's clusters, live, and an offline cluster shows in place", async ({ page }) => {
  await logIn(page);
  await page.goto("/workspaces");
  await hydrated(page);
  await page.getByRole("button", { name: "New workspace" }).click();
  await page.getByLabel("Name").fill("prod");
  await page.getByLabel("Cluster selector").fill("env=prod");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("link", { name: "prod", exact: true }).click();
  await expect(page.getByRole("heading", { name: "prod", exact: true })).toBeVisible();
  await hydrated(page);

  await page.getByLabel("Name (the namespace)").fill("shop");
  await page.getByLabel("Narrow to clusters").fill("region=eu");
  await expect(page.getByTestId("project-preview")).toHaveText("4 of the workspace's 8 clusters");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name: "shop" }).click();
  await expect(page.getByRole("heading", { name: "shop", exact: true })).toBeVisible();
  await hydrated(page);

  await page.getByLabel("Name", { exact: true }).fill("settings");
  await page.getByLabel("Data (key=value per line)").fill("greeting=hello\nlevel=info");
  await page.getByLabel("Override in cluster (optional)").selectOption("prod-eu-2");
  await page.getByLabel("Values there (key=value per line)").fill("level=debug");
  await page.getByRole("button", { name: "Add ConfigMap" }).click();

  const cells = page.locator('[data-testid="status-cell"][data-resource="ConfigMap/settings"]');
  await expect(cells).toHaveCount(4);
  for (const cell of await cells.all()) {
    await expect(cell.locator("[data-code]")).toHaveAttribute("data-code", "Synced");
  }
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");
  await page.screenshot({ path: "test-results/project-synced.png", fullPage: true });

  // In the members (their own kube API, with their kubeconfig's token): the override
  // landed in prod-eu-2 only.
  expect(await memberConfigMap("prod-eu-2", "shop", "settings")).toEqual({ greeting: "hello", level: "debug" });
  for (const other of ["prod-eu-1", "prod-eu-3", "prod-eu-4"]) {
    expect(await memberConfigMap(other, "shop", "settings")).toEqual({ greeting: "hello", level: "info" });
  }

  // A cluster that goes offline shows in its cells without a reload, and recovers.
  await faults("prod-eu-1", { offline: true });
  const first = page.locator('[data-testid="status-cell"][data-resource="ConfigMap/settings"][data-cluster="prod-eu-1"] [data-code]');
  await expect(first).toHaveAttribute("data-code", "ClusterNotReady", { timeout: 20_000 });
  await expect(page.getByTestId("summary-offline")).not.toHaveText("0");
  await page.screenshot({ path: "test-results/project-offline.png", fullPage: true });
  await faults("prod-eu-1", {});
  await expect(first).toHaveAttribute("data-code", "Synced", { timeout: 20_000 });
});
