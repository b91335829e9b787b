import { test, expect, type Page } from "@playwright/test";
import { hydrated, logIn } from "./helpers";

/** Calls a server function as the logged-in page would, answering its JSON. */
async function api(page: Page, endpoint: string, form: Record<string, string>) {
  const answer = await page.request.post(`/api/${endpoint}`, { form, headers: { Accept: "application/json" } });
  expect(answer.ok(), `${endpoint}: ${answer.status()}`).toBeTruthy();
  return answer.json();
}

const CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  level: info\n";

// Issue #5 points 5, 6 and 8: diff before apply, history with revert, stale edits.
test("edit a resource through a per-cluster review, lose a race politely, compare and revert, delete", async ({ page }) => {
  await logIn(page);
  // Unique names: the suite shares one server (and may repeat this test).
  const run = Date.now();
  const ws = await api(page, "workspaces/create", { name: `staging-apps-${run}`, selector: "env=staging" });
  const project = await api(page, "projects/create", { workspace_id: ws.id, name: `shop-${run}`, selector: "" });
  const added = await api(page, "projects/add-resource", { project_id: project.id, yaml: CONFIGMAP });

  // From the project's matrix to the resource.
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);
  await page.getByRole("link", { name: "ConfigMap/app-config" }).click();
  await expect(page.getByRole("heading", { name: "ConfigMap app-config" })).toBeVisible();
  await hydrated(page);
  const rows = page.getByTestId("status-row");
  await expect(rows).toHaveCount(4);
  await expect(rows.locator('[data-code="Synced"]')).toHaveCount(4);

  // Edit: debug everywhere, but staging-us-1 keeps info; no longer on staging-eu-2.
  await page.getByRole("tab", { name: "Edit" }).click();
  const yaml = page.getByRole("textbox", { name: "YAML", exact: true });
  await yaml.fill(CONFIGMAP.replace("info", "debug"));
  await page.getByRole("radio", { name: "Chosen clusters" }).check();
  await page.getByRole("group", { name: "Chosen clusters" }).getByLabel("staging-eu-1").check();
  await page.getByRole("group", { name: "Chosen clusters" }).getByLabel("staging-us-1").check();
  await page.getByRole("group", { name: "Chosen clusters" }).getByLabel("staging-us-2").check();
  await page.getByRole("button", { name: "Add override" }).click();
  const override = page.getByTestId("override-row");
  await override.getByLabel("Cluster").selectOption("staging-us-1");
  await override.getByLabel("Path").fill("/data/level");
  await override.getByLabel("Value").fill("info");
  await page.getByRole("button", { name: "Review changes" }).click();

  const review = page.getByTestId("review");
  await expect(page.getByTestId("review-summary")).toHaveText(
    "This change: changed in 2 clusters, deleted from 1 cluster, unchanged in 1 cluster.",
  );
  const update = review.locator('[data-kind="Update"]');
  await expect(update.getByTestId("review-clusters")).toHaveText("staging-eu-1, staging-us-2");
  await expect(update.locator('[data-line="removed"]')).toHaveText(["-   level: info"]);
  await expect(update.locator('[data-line="added"]')).toHaveText(["+   level: debug"]);
  await expect(review.locator('[data-kind="Delete"]').getByTestId("review-clusters")).toHaveText("staging-eu-2");
  await expect(page.getByTestId("review-unchanged")).toContainText("Unchanged in 1 cluster");
  await page.screenshot({ path: "test-results/resource-review.png", fullPage: true });
  // Editing again makes the review stale: it must be redone before applying.
  await override.getByLabel("Value").fill("warn");
  await expect(page.getByRole("button", { name: "Apply", exact: true })).toBeDisabled();
  await override.getByLabel("Value").fill("info");
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  // Applied: the page shows its rollout, and staging-eu-2 no longer holds it.
  await expect(page.getByRole("status")).toContainText("Applied as revision 2");
  await expect(page.getByRole("tab", { name: "Status" })).toHaveAttribute("aria-selected", "true");
  await expect(rows.filter({ hasText: "staging-eu-2" })).toContainText("not placed here", { timeout: 15_000 });
  await expect(rows.locator('[data-code="Synced"]')).toHaveCount(3);

  // Someone else saves while this page has it open: the next apply is refused, naming them.
  await page.getByRole("tab", { name: "Edit" }).click();
  await yaml.fill(CONFIGMAP.replace("info", "error"));
  const other = await page.request.post("/api/resources/apply-edit", {
    headers: { Accept: "application/json" },
    data: { id: added.id, version: 2, edit: { yaml: CONFIGMAP.replace("info", "trace"), placement: {}, overrides: [] } },
  });
  expect(other.ok()).toBeTruthy();
  await page.getByRole("button", { name: "Review changes" }).click();
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("changed by admin since you opened it");
  await page.screenshot({ path: "test-results/resource-stale.png", fullPage: true });
  await page.getByRole("button", { name: "Reload the latest" }).click();
  await expect(page.getByText("revision 3 ·", { exact: false })).toBeVisible();

  // History: three revisions; compare 1 → 3; revert to 1 after reviewing it.
  await page.getByRole("tab", { name: "History" }).click();
  await expect(page.getByTestId("revision")).toHaveCount(3);
  await expect(page.getByTestId("revision").first()).toContainText("admin");
  await page.getByLabel("Compare from revision 1").check();
  await page.getByLabel("Compare to revision 3").check();
  await page.getByRole("button", { name: "Compare 1 → 3" }).click();
  await expect(page.getByTestId("diff").locator('[data-line="added"]')).toContainText(["level: trace"]);
  await page.getByRole("button", { name: "Revert to 1" }).click();
  await expect(page.getByTestId("review-summary")).toContainText("changed in 4 clusters");
  await page.screenshot({ path: "test-results/resource-history.png", fullPage: true });
  await page.getByRole("button", { name: "Apply revert to 1" }).click();
  await expect(page.getByRole("status")).toContainText("Reverted as revision 4");
  await expect(rows.locator('[data-code="Synced"]')).toHaveCount(4, { timeout: 15_000 });
  await page.getByRole("tab", { name: "History" }).click();
  await expect(page.getByTestId("revision").first()).toContainText("reverted to 1");

  // Delete, leaving the objects in the clusters: the review says nothing changes there.
  await page.getByRole("button", { name: "Delete…" }).click();
  await page.getByLabel("Leave it in the clusters, no longer managed").check();
  await expect(page.getByTestId("review-summary")).toHaveText("This change: unchanged in 4 clusters.");
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/projects/${project.id}$`));
  await expect(page.getByRole("link", { name: "ConfigMap/app-config" })).toHaveCount(0);
});

// Issue #5 point 3: tabs by kind; a Secret's values are write-only.
test("a Secret is added from its tab with values that never come back", async ({ page }) => {
  await logIn(page);
  const run = Date.now();
  const ws = await api(page, "workspaces/create", { name: `vault-${run}`, selector: "env=staging,region=eu" });
  const project = await api(page, "projects/create", { workspace_id: ws.id, name: `pay-${run}`, selector: "" });
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);

  await page.getByRole("tab", { name: /^Secrets/ }).click();
  await expect(page.getByText("No Secrets here yet: add one below.")).toBeVisible();
  const form = page.getByRole("region", { name: "Add a Secret", exact: true });
  await form.getByLabel("Name", { exact: true }).fill("db-credentials");
  await form.getByLabel("Key", { exact: true }).fill("password");
  await form.getByLabel("Value", { exact: true }).fill("correct-horse-battery");
  await form.getByRole("button", { name: "Review" }).click();
  await expect(form.getByTestId("review-summary")).toHaveText("This change: created in 2 clusters.");
  await expect(form.getByTestId("diff").first()).toContainText("password: (hidden)");
  await page.screenshot({ path: "test-results/secret-review.png", fullPage: true });
  await form.getByRole("button", { name: "Add Secret" }).click();
  await expect(page.getByRole("link", { name: "Secret/db-credentials" })).toBeVisible();
  await expect(page.getByRole("tab", { name: /^Secrets/ })).toContainText("1");
  await expect(page.getByRole("tab", { name: /^ConfigMaps/ })).toContainText("0");

  // Its page lists the key, never the value; new values are typed, not read.
  await page.getByRole("link", { name: "Secret/db-credentials" }).click();
  await expect(page.getByRole("heading", { name: "Secret db-credentials" })).toBeVisible();
  await page.getByRole("tab", { name: "Edit" }).click();
  await expect(page.getByLabel("password", { exact: true })).toHaveValue("");
  expect(await page.content()).not.toContain("correct-horse");
  expect(await page.content()).not.toContain(Buffer.from("correct-horse-battery").toString("base64"));
});
