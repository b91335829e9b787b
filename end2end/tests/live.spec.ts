import { test, expect, Page } from "@playwright/test";
import { callServer, faults, hydrated, logIn } from "./helpers";

async function api(page: Page, endpoint: string, form: Record<string, string>) {
  const answer = await callServer(page, endpoint, form);
  expect(answer.ok(), `${endpoint}: ${answer.status()}`).toBeTruthy();
  return answer.json();
}

// A status that changes after the page has read the project but before its live stream is
// open was on neither: the page reads the statuses again once the stream opens.
test("a status that changes while the page loads shows once the live stream opens", async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page);
  const run = Date.now();
  const ws = await api(page, "workspaces/create", { name: `late-${run}`, selector: "env=staging" });
  const project = await api(page, "projects/create", { workspace_id: ws.id, name: `late-${run}`, selector: "" });
  const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\ndata:\n  a: b\n";
  const resource = await api(page, "projects/add-resource", { project_id: project.id, yaml });
  const cell = page.locator(
    '[data-testid="status-cell"][data-resource="ConfigMap/late"][data-cluster="staging-us-2"] [data-code]',
  );
  await page.goto(`/projects/${project.id}`);
  await expect(cell).toHaveAttribute("data-code", "Synced", { timeout: 30_000 });

  // The stream held back, as on a slow network: the page loads, then the cluster goes away.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/events", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);
  await expect(cell).toHaveAttribute("data-code", "Synced");
  try {
    await faults("staging-us-2", { offline: true });
    await expect
      .poll(async () => {
        const now: { statuses: { code: string }[] } = await api(page, "projects/statuses", { id: project.id });
        return now.statuses.filter((s) => s.code === "ClusterNotReady").length;
      }, { timeout: 30_000 })
      .toBeGreaterThan(0);
    // Nothing has told the page yet.
    await expect(cell).toHaveAttribute("data-code", "Synced");
    release();
    await expect(cell).toHaveAttribute("data-code", "ClusterNotReady", { timeout: 10_000 });
    // …and the cluster's column says why.
    await expect(page.getByRole("columnheader", { name: /staging-us-2/ })).toContainText("Offline");
    await page.screenshot({ path: "test-results/live-late-status.png", fullPage: true });
  } finally {
    release();
    await faults("staging-us-2", {});
  }
  await expect(cell).toHaveAttribute("data-code", "Synced", { timeout: 30_000 });

  // The resource's own page likewise (it reads `resources/statuses` once its stream opens).
  const row = page.locator('[data-testid="status-row"][data-cluster="staging-us-2"]');
  await page.goto(`/resources/${resource.id}`);
  await hydrated(page);
  await expect(row.locator("[data-code]")).toHaveAttribute("data-code", "Synced");
  let releaseAgain = () => {};
  const heldAgain = new Promise<void>((resolve) => (releaseAgain = resolve));
  await page.unroute("**/api/events");
  await page.route("**/api/events", async (route) => {
    await heldAgain;
    await route.continue();
  });
  await page.goto(`/resources/${resource.id}`);
  await hydrated(page);
  await expect(row.locator("[data-code]")).toHaveAttribute("data-code", "Synced");
  try {
    await faults("staging-us-2", { offline: true });
    await expect
      .poll(async () => {
        const now: { statuses: { code: string }[] } = await api(page, "resources/statuses", { id: resource.id });
        return now.statuses.filter((s) => s.code === "ClusterNotReady").length;
      }, { timeout: 30_000 })
      .toBeGreaterThan(0);
    await expect(row.locator("[data-code]")).toHaveAttribute("data-code", "Synced");
    releaseAgain();
    await expect(row.locator("[data-code]")).toHaveAttribute("data-code", "ClusterNotReady", { timeout: 10_000 });
    await expect(row).toContainText("Offline");
  } finally {
    releaseAgain();
    await faults("staging-us-2", {});
  }
  await expect(row.locator("[data-code]")).toHaveAttribute("data-code", "Synced", { timeout: 30_000 });
  await page.unroute("**/api/events");
});
