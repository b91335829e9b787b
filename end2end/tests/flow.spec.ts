import { test, expect } from "@playwright/test";
import { faults, hydrated, logIn, newSimulatedCluster, SIMULATOR, simulatorAdmin } from "./helpers";

/** A ConfigMap's data as the member cluster serves it (through its kubeconfig). */
async function memberConfigMap(cluster: string, namespace: string, name: string) {
  const api = await simulatorAdmin();
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

// The whole flow as a person does it (issue #5, point 10).
test("register three clusters, place a ConfigMap with an override, watch it live through an outage", async ({ page }) => {
  await logIn(page);
  await hydrated(page);

  // Register three clusters by kubeconfig, testing the connection first.
  for (const name of ["lab-1", "lab-2", "lab-3"]) {
    const kubeconfig = await newSimulatedCluster(name);
    await page.getByRole("button", { name: "Register cluster" }).click();
    await page.getByLabel("Kubeconfig").fill(kubeconfig);
    await page.getByRole("button", { name: "Read contexts" }).click();
    await expect(page.getByLabel("Context")).toHaveValue(name);
    await expect(page.getByLabel("Name", { exact: true })).toHaveValue(name);
    await page.getByRole("button", { name: "Test connection" }).click();
    await expect(page.getByTestId("connection-result")).toContainText("Connected: Kubernetes v");
    await page.getByLabel("Labels", { exact: true }).fill("team=lab");
    if (name === "lab-1") await page.screenshot({ path: "test-results/register-cluster.png", fullPage: true });
    await page.getByRole("button", { name: "Register cluster" }).click();
    await expect(page.getByTestId("cluster-row").filter({ hasText: name })).toBeVisible();
  }
  await page.getByLabel("Search").fill("team=lab");
  await expect(page.getByTestId("cluster-row")).toHaveCount(3);
  await expect(page.getByTestId("cluster-row").filter({ hasText: "lab-2" })).toContainText("Ready");

  // A workspace whose preview shows those three.
  await page.getByRole("link", { name: "Workspaces" }).click();
  await expect(page.getByRole("heading", { name: "Workspaces", exact: true })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "New workspace" }).click();
  await page.getByLabel("Name").fill("lab");
  await page.getByLabel("Cluster selector").fill("team=lab");
  await expect(page.getByTestId("preview-count")).toHaveText(/^Matches 3 of \d+ clusters$/);
  await expect(page.getByTestId("preview-cluster")).toHaveText(["lab-1", "lab-2", "lab-3"]);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("link", { name: "lab", exact: true }).click();
  await expect(page.getByRole("heading", { name: "lab", exact: true })).toBeVisible();
  await hydrated(page);

  // A project, then a ConfigMap with an override for lab-2.
  await page.getByLabel("Name (the namespace)").fill("shop");
  await expect(page.getByTestId("project-preview")).toHaveText("3 of the workspace's 3 clusters");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name: "shop" }).click();
  await expect(page.getByRole("heading", { name: "shop", exact: true })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill("settings");
  await page.getByLabel("Data (key=value per line)").fill("greeting=hello\nlevel=info");
  await page.getByLabel("Override in cluster (optional)").selectOption("lab-2");
  await page.getByLabel("Values there (key=value per line)").fill("level=debug");
  // Reviewed first: what it creates in which cluster (lab-2's copy differs).
  const cmForm = page.getByRole("region", { name: "Add a ConfigMap" });
  await cmForm.getByRole("button", { name: "Review" }).click();
  await expect(cmForm.getByTestId("review-summary")).toHaveText("This change: created in 3 clusters.");
  await expect(cmForm.getByTestId("review-clusters")).toHaveText(["lab-1, lab-3", "lab-2"]);
  await expect(cmForm.locator('[data-kind="Create"]').nth(1).locator('[data-line="added"]')).toContainText(["level: debug"]);
  await page.screenshot({ path: "test-results/project-review.png", fullPage: true });
  await cmForm.getByRole("button", { name: "Add ConfigMap" }).click();

  // All three cells turn Synced live.
  const cells = page.locator('[data-testid="status-cell"][data-resource="ConfigMap/settings"]');
  await expect(cells).toHaveCount(3);
  for (const cell of await cells.all()) {
    await expect(cell.locator("[data-code]")).toHaveAttribute("data-code", "Synced");
  }
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("");
  await page.screenshot({ path: "test-results/project-synced.png", fullPage: true });
  // The matrix pages and filters its cluster columns (fleets have hundreds).
  await expect(page.getByTestId("cluster-page")).toHaveText("clusters 1–3 of 3");
  await expect(page.getByRole("button", { name: "Next", exact: true })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Previous", exact: true })).toBeDisabled();
  await page.getByLabel("Filter clusters").fill("lab-2");
  await expect(cells).toHaveCount(1);
  await expect(page.getByTestId("cluster-page")).toHaveText("clusters 1–1 of 1");
  await page.getByLabel("Filter clusters").fill("");
  await expect(cells).toHaveCount(3);

  // In the members (their own kube API, with their kubeconfig's token): the override
  // landed in lab-2 only.
  expect(await memberConfigMap("lab-2", "shop", "settings")).toEqual({ greeting: "hello", level: "debug" });
  for (const other of ["lab-1", "lab-3"]) {
    expect(await memberConfigMap(other, "shop", "settings")).toEqual({ greeting: "hello", level: "info" });
  }

  // A cluster taken offline through the simulator's fault endpoint shows in its cells
  // without a reload, and recovers when it is back.
  await faults("lab-1", { offline: true });
  const lab1 = page.locator('[data-testid="status-cell"][data-resource="ConfigMap/settings"][data-cluster="lab-1"] [data-code]');
  await expect(lab1).toHaveAttribute("data-code", "ClusterNotReady", { timeout: 20_000 });
  await expect(page.getByTestId("summary-offline")).not.toHaveText("0");
  await page.screenshot({ path: "test-results/project-offline.png", fullPage: true });
  await faults("lab-1", {});
  await expect(lab1).toHaveAttribute("data-code", "Synced", { timeout: 20_000 });
  await expect(page.getByTestId("summary-offline")).toHaveText("0");

  // Any object as YAML: mistakes show with their line while typing; a Deployment then
  // reports its rollout in each cell.
  const yaml = page.getByLabel("YAML", { exact: true });
  await yaml.fill("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [web\n");
  await expect(page.getByTestId("yaml-error")).toContainText("line 4");
  const yamlForm = page.getByRole("region", { name: "Add any object (YAML)" });
  await expect(yamlForm.getByRole("button", { name: "Review" })).toBeDisabled();
  await yaml.fill(
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n" +
      "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n" +
      "    spec:\n      containers:\n      - {name: web, image: 'nginx:1.27'}\n",
  );
  await expect(page.getByTestId("yaml-error")).toHaveCount(0);
  await yamlForm.getByRole("button", { name: "Review" }).click();
  await expect(yamlForm.getByTestId("review-summary")).toHaveText("This change: created in 3 clusters.");
  await yamlForm.getByRole("button", { name: "Add object" }).click();
  const web = page.locator('[data-testid="status-cell"][data-resource="Deployment/web"]');
  await expect(web).toHaveCount(3);
  for (const cell of await web.all()) {
    await expect(cell).toContainText("Healthy 2/2", { timeout: 20_000 });
  }
  // At a laptop's width, the code and the health each stay on one line (the health once
  // wrapped onto three, a lone separator dot above it).
  await page.setViewportSize({ width: 1440, height: 900 });
  for (const cell of await web.all()) {
    const [pill, health] = [cell.locator("[data-code] > span").first(), cell.getByTestId("health")];
    await expect(health).toHaveText("Healthy 2/2");
    for (const line of [pill, health]) {
      const box = await line.boundingBox();
      expect(box!.height, "one line").toBeLessThan(26);
    }
  }
  await page.screenshot({ path: "test-results/project-workload.png", fullPage: true });
});
