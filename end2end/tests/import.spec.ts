import { test, expect } from "@playwright/test";
import { hydrated, logIn, post } from "./helpers";

/** KubeFed's published format: a namespace placed by label, a ConfigMap by cluster names
 *  with an override for one of them. */
function kubefed(ns: string) {
  return `apiVersion: types.kubefed.io/v1beta1
kind: FederatedNamespace
metadata: {name: ${ns}, namespace: ${ns}}
spec:
  placement:
    clusterSelector:
      matchLabels: {env: staging}
---
apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: settings, namespace: ${ns}}
spec:
  template:
    data: {level: info}
  placement:
    clusters:
    - name: staging-eu-1
    - name: staging-us-1
  overrides:
  - clusterName: staging-us-1
    clusterOverrides:
    - path: /data/level
      value: debug
`;
}

test("KubeFed YAML is imported into a project after a review, and the project exported back", async ({ page }) => {
  await logIn(page);
  const ws = await post(page, "workspaces/create", { name: `import-${Date.now() % 100000}`, selector: "" });
  const ns = `imported-${Date.now() % 100000}`;
  await page.goto(`/workspaces/${ws.id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Import YAML…" }).click();
  const panel = page.getByRole("region", { name: "Import YAML" });
  // What has no equivalent is named, and nothing can be imported.
  await page.locator("#import-yaml").fill(
    `${kubefed(ns)}---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedClusterRole\nmetadata: {name: r}\nspec: {template: {rules: []}}\n`,
  );
  await panel.getByRole("button", { name: "Review" }).click();
  await expect(page.getByTestId("import-problems")).toContainText("FederatedClusterRole r: cluster-scoped");
  await expect(page.getByRole("button", { name: `Import into project ${ns}` })).toBeDisabled();

  await page.locator("#import-yaml").fill(kubefed(ns));
  await panel.getByRole("button", { name: "Review" }).click();
  const preview = page.getByTestId("import-preview");
  await expect(preview).toContainText(`Project ${ns}: 1 resource, on the workspace's clusters where env=staging`);
  await expect(preview.getByTestId("import-row")).toContainText("clusters staging-eu-1, staging-us-1 · 1 override");
  await page.screenshot({ path: "test-results/import-review.png", fullPage: true });
  await page.getByRole("button", { name: `Import into project ${ns}` }).click();

  await expect(page).toHaveURL(/\/projects\//, { timeout: 15_000 });
  await hydrated(page);
  const settings = page.getByRole("row").filter({ hasText: "ConfigMap/settings" });
  await expect(settings.getByText("Synced")).toHaveCount(2, { timeout: 20_000 });

  await page.getByRole("button", { name: "Export as KubeFed" }).click();
  const exported = page.getByTestId("export");
  await expect(exported).toContainText("kind: FederatedConfigMap");
  await expect(exported).toContainText("clusterName: staging-us-1");
  await expect(exported.getByRole("link", { name: `Download ${ns}-kubefed.yaml` })).toBeVisible();
  await page.screenshot({ path: "test-results/export.png", fullPage: true });
});

test("a workspace exported from its page imports into another workspace, projects and cluster-scoped objects", async ({ page }) => {
  // The source's project names are free only once its objects are gone from four clusters,
  // which on a loaded CI machine takes longer than one test's default time.
  test.setTimeout(150_000);
  await logIn(page);
  const suffix = Date.now() % 100000;
  const source = await post(page, "workspaces/create", { name: `src-${suffix}`, selector: "env=staging" });
  const project = await post(page, "projects/create", { workspace_id: source.id, name: `moved-${suffix}`, selector: "" });
  await post(page, "projects/add-configmap", {
    project_id: project.id, name: "cfg", data: "a=1", override_cluster: "", override_data: "",
  });
  const role = `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: moved-${suffix}\nrules: []\n`;
  await post(page, "workspaces/add-resource", { workspace_id: source.id, yaml: role });

  // Exported from its page.
  await page.goto(`/workspaces/${source.id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Export as KubeFed" }).click();
  const exported = page.getByTestId("export");
  await expect(exported.getByRole("link", { name: `Download src-${suffix}-kubefed.yaml` })).toBeVisible();
  const yaml = (await exported.locator("pre").textContent()) ?? "";
  expect(yaml).toContain(`# Flotilla workspace src-${suffix}: the clusters where env=staging`);

  // The source goes with its objects, then the export comes back elsewhere.
  const detail = await post(page, "workspaces/detail", { id: source.id });
  await post(page, "workspaces/delete", { id: source.id, version: String(detail.workspace.version), orphan: "false" });
  const target = await post(page, "workspaces/create", { name: `dst-${suffix}`, selector: "env=staging" });
  await page.goto(`/workspaces/${target.id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Import YAML…" }).click();
  await page.getByLabel("This workspace: a project per namespace").check();
  await expect(page.getByLabel("Project (when the YAML names no namespace)")).toHaveCount(0);
  await page.locator("#import-yaml").fill(yaml);
  // The project's name is free once the deleted workspace's objects are gone: until then
  // the review says so and the import waits.
  await expect
    .poll(async () => {
      await page.getByRole("region", { name: "Import YAML" }).getByRole("button", { name: "Review" }).click();
      return page.getByRole("button", { name: "Import into this workspace" }).isEnabled();
    }, { timeout: 90_000, intervals: [1_000] })
    .toBe(true);
  const preview = page.getByTestId("import-preview");
  await expect(preview).toContainText("The workspace: 1 cluster-scoped object");
  await expect(preview).toContainText(`Project moved-${suffix}: 1 resource`);
  await page.screenshot({ path: "test-results/import-workspace-review.png", fullPage: true });
  await page.getByRole("button", { name: "Import into this workspace" }).click();
  await expect(page.getByTestId("project-row").filter({ hasText: `moved-${suffix}` })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId("workspace-resource").filter({ hasText: `ClusterRole/moved-${suffix}` })).toBeVisible();
  await page.screenshot({ path: "test-results/import-workspace-done.png", fullPage: true });

  // Leave the demo fleet as it was.
  const now = await post(page, "workspaces/detail", { id: target.id });
  await post(page, "workspaces/delete", { id: target.id, version: String(now.workspace.version), orphan: "false" });
});
