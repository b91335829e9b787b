import { test, expect } from "@playwright/test";
import { hydrated, logIn } from "./helpers";

test("a workspace is created with a live preview of the clusters its selector matches", async ({ page }) => {
  await logIn(page);
  await page.getByRole("link", { name: "Workspaces" }).click();
  await expect(page.getByRole("heading", { name: "Workspaces", exact: true })).toBeVisible();
  await hydrated(page);

  await page.getByRole("button", { name: "New workspace" }).click();
  const selector = page.getByLabel("Cluster selector");
  const count = page.getByTestId("preview-count");
  // Empty selects everything; the preview follows each keystroke, in the browser.
  // (Other tests may have registered clusters without these labels.)
  await expect(count).toHaveText(/^Matches (\d+) of \1 clusters$/);
  await selector.fill("env=prod");
  await expect(count).toHaveText(/^Matches 8 of \d+ clusters$/);
  await selector.fill("env=prod,region in (eu");
  await expect(page.locator("#selector-error")).toBeVisible();
  await expect(selector).toHaveAttribute("aria-invalid", "true");
  await selector.fill("env=prod,region in (eu)");
  await expect(count).toHaveText(/^Matches 4 of \d+ clusters$/);
  await expect(page.getByTestId("preview-cluster")).toHaveCount(4);
  await expect(page.getByTestId("preview-cluster").first()).toContainText("prod-eu");

  // A bad name is pointed out next to the field; nothing is created.
  await page.getByLabel("Name").fill("Prod EU");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page.locator("#name-error")).toBeVisible();
  await page.screenshot({ path: "test-results/workspace-new.png", fullPage: true });

  await page.getByLabel("Name").fill("prod-eu");
  await page.getByRole("button", { name: "Create workspace" }).click();
  const row = page.getByTestId("workspace-row").filter({ hasText: "prod-eu" });
  await expect(row).toBeVisible();
  await expect(row).toContainText("env=prod,region=eu");
  await expect(row.getByRole("cell").nth(2)).toHaveText("4");
  await expect(page.getByRole("button", { name: "New workspace" })).toBeVisible();
  await page.screenshot({ path: "test-results/workspaces.png", fullPage: true });
});

// Issue #5 point 2: a workspace's cluster-scoped resources, added as YAML after a review.
test("a cluster-scoped object is added to a workspace after reviewing it", async ({ page }) => {
  await logIn(page);
  const answer = await page.request.post("/api/workspaces/create", {
    form: { name: `rbac-${Date.now()}`, selector: "env=staging" },
    headers: { Accept: "application/json" },
  });
  expect(answer.ok()).toBeTruthy();
  const ws = await answer.json();
  await page.goto(`/workspaces/${ws.id}`);
  await hydrated(page);
  await expect(page.getByText("None yet. Add one as YAML below.")).toBeVisible();
  const form = page.getByRole("region", { name: "Add a cluster-scoped object (YAML)" });
  await form.getByLabel("YAML", { exact: true }).fill("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-here\n");
  await form.getByRole("button", { name: "Review" }).click();
  await expect(page.getByTestId("yaml-error")).toContainText("project");
  await form.getByLabel("YAML", { exact: true }).fill(
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: read-pods\n" +
      "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get, list]\n",
  );
  await form.getByRole("button", { name: "Review" }).click();
  await expect(form.getByTestId("review-summary")).toHaveText("This change: created in 4 clusters.");
  await form.getByRole("button", { name: "Add object" }).click();
  const row = page.getByTestId("workspace-resource").filter({ hasText: "ClusterRole/read-pods" });
  await expect(row).toBeVisible();

  // The selector is edited with a live preview; the workspace then holds two clusters.
  await page.getByRole("button", { name: "Edit selector" }).click();
  const selector = page.getByTestId("selector-editor").getByLabel("Selector");
  await expect(selector).toHaveValue("env=staging");
  await selector.fill("env=staging,region=eu");
  await expect(page.getByTestId("edit-selector-preview")).toHaveText(/^Matches 2 of \d+ clusters of the fleet \(now 4\)$/);
  await page.getByRole("button", { name: "Save selector" }).click();
  await expect(page.getByTestId("workspace-selector")).toHaveText("env=staging,region=eu");

  await row.getByRole("link").click();
  await expect(page.getByRole("heading", { name: "ClusterRole read-pods" })).toBeVisible();
  await expect(page.getByTestId("status-row")).toHaveCount(2);
  await expect(page.getByTestId("status-row").locator('[data-code="Synced"]')).toHaveCount(2, { timeout: 15_000 });
  await page.screenshot({ path: "test-results/workspace-resource.png", fullPage: true });

  // Deleted after a review, its objects taken along: the demo fleet is left as it was.
  await page.goto(`/workspaces/${ws.id}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Delete workspace…" }).click();
  const removal = page.getByTestId("removal");
  await expect(removal.getByTestId("review-summary")).toContainText("deleted from 2 clusters");
  await expect(removal).toContainText("ClusterRole read-pods");
  await page.screenshot({ path: "test-results/workspace-delete.png", fullPage: true });
  await removal.getByRole("button", { name: "Delete workspace", exact: true }).click();
  await expect(page).toHaveURL(/\/workspaces$/);
  await expect(page.getByRole("link", { name: ws.name })).toHaveCount(0);
});
