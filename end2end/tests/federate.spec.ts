import { test, expect } from "@playwright/test";
import { hydrated, logIn, newSimulatedCluster, post, SIMULATOR, simulatorAdmin } from "./helpers";

/** Creates `body` in member `cluster` at `path` with the member's own admin token, as
 *  `kubectl create` would (not through Flotilla). */
async function memberCreate(cluster: string, path: string, body: unknown) {
  const api = await simulatorAdmin();
  const config = await (await api.get(`${SIMULATOR}/admin/clusters/${cluster}/kubeconfig`)).json();
  const server = config.clusters[0].cluster.server;
  const token = config.users[0].user.token;
  const answer = await api.post(`${server}${path}`, { data: body, headers: { Authorization: `Bearer ${token}` } });
  expect(answer.status(), await answer.text()).toBe(201);
  await api.dispose();
}

/** Reads `path` from member `cluster` with its admin token: the status and body. */
async function memberGet(cluster: string, path: string) {
  const api = await simulatorAdmin();
  const config = await (await api.get(`${SIMULATOR}/admin/clusters/${cluster}/kubeconfig`)).json();
  const server = config.clusters[0].cluster.server;
  const answer = await api.get(`${server}${path}`, { headers: { Authorization: `Bearer ${config.users[0].user.token}` } });
  const status = answer.status();
  await api.dispose();
  return { status };
}

test("a namespace running in a joined cluster is federated into a project, an object that existed is adopted, and the project deleted with its objects", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  const cluster = `fed-${Date.now() % 100000}`;
  const ns = `shop-${Date.now() % 100000}`;
  const kubeconfig = await newSimulatedCluster(cluster);
  // What its admin built by hand before Flotilla.
  await memberCreate(cluster, "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  await memberCreate(cluster, `/api/v1/namespaces/${ns}/configmaps`, {
    apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", labels: { app: "web" } }, data: { level: "info" },
  });
  await memberCreate(cluster, `/apis/apps/v1/namespaces/${ns}/deployments`, {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { app: "web" } },
    spec: { replicas: 1, selector: { matchLabels: { app: "web" } },
            template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } } },
  });

  // Joined from its admin kubeconfig (the form's default).
  await page.getByRole("button", { name: "Register cluster" }).click();
  await page.getByLabel("Kubeconfig").fill(kubeconfig);
  await page.getByRole("button", { name: "Read contexts" }).click();
  await expect(page.getByLabel("Context")).toHaveValue(cluster);
  await page.getByLabel("Labels", { exact: true }).fill(`purpose=${cluster}`);
  await page.getByRole("button", { name: "Register cluster" }).click();
  const row = page.getByTestId("cluster-row").filter({ hasText: cluster });
  await expect(row).toContainText("Ready", { timeout: 15_000 });

  // The Types page lists what it serves.
  await page.getByRole("link", { name: "Types" }).click();
  await hydrated(page);
  await page.getByLabel("Search").fill("deployment");
  await expect(page.getByTestId("type-row").filter({ hasText: "apps/v1" })).toContainText("deployments");
  await page.screenshot({ path: "test-results/types.png", fullPage: true });

  // Federate its namespace from a workspace over it: preview, then federate.
  const ws = await post(page, "workspaces/create", { name: `fed-${Date.now() % 100000}`, selector: `purpose=${cluster}` });
  await page.goto(`/workspaces/${ws.id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Federate a namespace…" }).click();
  await page.getByLabel("Namespace", { exact: true }).fill(ns);
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByTestId("federate-preview");
  await expect(preview).toContainText(`${ns} in ${cluster}`);
  const objects = preview.getByTestId("federate-object");
  await expect(objects.filter({ hasText: "ConfigMap/settings" })).toContainText("federated");
  await expect(objects.filter({ hasText: "Deployment/web" })).toContainText("federated");
  await page.screenshot({ path: "test-results/federate-preview.png", fullPage: true });
  await page.getByRole("button", { name: `Federate ${ns}` }).click();

  // The new project: its resources Synced in the cluster they came from.
  await expect(page).toHaveURL(/\/projects\//, { timeout: 15_000 });
  await hydrated(page);
  await expect(page.getByRole("heading", { name: ns })).toBeVisible();
  for (const name of ["settings", "web"]) {
    await expect(page.getByRole("row").filter({ hasText: name }).first()).toContainText("Synced", { timeout: 20_000 });
  }
  await page.screenshot({ path: "test-results/federate-project.png", fullPage: true });

  // An object made in the member meanwhile, then declared in Flotilla: AlreadyExists, adopted.
  await memberCreate(cluster, `/api/v1/namespaces/${ns}/configmaps`, {
    apiVersion: "v1", kind: "ConfigMap", metadata: { name: "legacy" }, data: { owner: "someone" },
  });
  const projectId = page.url().split("/projects/")[1];
  const added = await post(page, "projects/add-configmap", {
    project_id: projectId, name: "legacy", data: "owner=flotilla", override_cluster: "", override_data: "",
  });
  await page.goto(`/resources/${added.id}`);
  await hydrated(page);
  await expect(page.getByText("AlreadyExists").first()).toBeVisible({ timeout: 20_000 });
  await page.getByRole("button", { name: "Adopt the existing objects" }).click();
  await expect(page.getByText("Synced").first()).toBeVisible({ timeout: 20_000 });
  await page.screenshot({ path: "test-results/adopted.png", fullPage: true });

  // Delete the project, taking its objects along: reviewed first, then gone from the member.
  await page.goto(`/projects/${projectId}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Delete project…" }).click();
  const removal = page.getByTestId("removal");
  await expect(removal.getByTestId("review-summary")).toContainText("deleted from 1 cluster");
  await expect(removal).toContainText("ConfigMap settings");
  await page.screenshot({ path: "test-results/project-delete.png", fullPage: true });
  await removal.getByRole("button", { name: "Delete project", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/workspaces/${ws.id}$`));
  await expect(page.getByTestId("project-row")).toHaveCount(0);
  await expect
    .poll(async () => (await memberGet(cluster, `/api/v1/namespaces/${ns}`)).status, { timeout: 20_000 })
    .toBe(404);

  // Leave the shared fleet as it was.
  await page.goto("/");
  await hydrated(page);
  const again = page.getByTestId("cluster-row").filter({ hasText: cluster });
  await again.getByRole("button", { name: `Manage ${cluster}` }).click();
  await page.getByLabel(`Type ${cluster} to confirm`).fill(cluster);
  await page.getByRole("button", { name: "Deregister", exact: true }).click();
  await expect(page.getByTestId("cluster-row").filter({ hasText: cluster })).toHaveCount(0, { timeout: 15_000 });
});
