import { test, expect } from "@playwright/test";
import { hydrated, logIn, newSimulatedCluster } from "./helpers";

test("the demo fleet is listed and searchable", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  const rows = page.getByTestId("cluster-row");
  await expect(rows).toHaveCount(12);
  await expect(page.getByTestId("fleet-count")).toHaveText("12 clusters");
  await expect(page.getByRole("cell", { name: /^prod-eu-1 https/ })).toBeVisible();

  // Filtering happens in the browser as you type.
  await page.getByLabel("Search").fill("env=staging");
  await expect(rows).toHaveCount(4);
  await expect(page.getByTestId("fleet-count")).toHaveText("4 of 12 clusters");
  await page.getByLabel("Search").fill("us-");
  await expect(rows).toHaveCount(6);
  await page.getByLabel("Search").fill("");
  await expect(rows).toHaveCount(12);
  await page.screenshot({ path: "test-results/fleet-demo.png", fullPage: true });
});

// Issue #5 point 1: filter by selector, edit labels, deregister with a cleanup choice.
test("clusters are filtered by selector, relabelled and deregistered", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  const rows = page.getByTestId("cluster-row");
  const selector = page.getByLabel("Label selector");
  await selector.fill("env=staging,region in (eu");
  await expect(selector).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#fleet-selector-error")).toBeVisible();
  await selector.fill("env=staging,region in (eu)");
  await expect(rows).toHaveCount(2);
  await selector.fill("");

  // Relabel: the new label shows on the row.
  const row = rows.filter({ hasText: "prod-us-2" });
  await row.getByRole("button", { name: "Manage prod-us-2" }).click();
  const labels = page.getByLabel("Labels", { exact: true });
  await labels.fill("env=prod,region=us,tier gold");
  await page.getByRole("button", { name: "Save labels" }).click();
  await expect(page.locator("#labels-error")).toContainText("write key=value");
  await labels.fill("env=prod,region=us,tier=gold");
  await page.getByRole("button", { name: "Save labels" }).click();
  await expect(rows.filter({ hasText: "prod-us-2" }).getByRole("listitem")).toContainText(["tier=gold"]);

  // A cluster registered for this test, then deregistered, leaving its objects.
  const name = `temp-${Date.now() % 100000}`;
  const kubeconfig = await newSimulatedCluster(name);
  const registered = await page.request.post("/api/fleet/register", {
    form: { kubeconfig, context: name, name, labels: "purpose=test" },
    headers: { Accept: "application/json" },
  });
  expect(registered.ok()).toBeTruthy();
  // Registered elsewhere (through the API): the open page lists it by itself.
  await rows.filter({ hasText: name }).getByRole("button", { name: `Manage ${name}` }).click();
  await page.getByLabel("Leave them in place, unmanaged").check();
  await page.getByLabel(`Type ${name} to confirm`).fill("not-the-name");
  await page.getByRole("button", { name: "Deregister", exact: true }).click();
  await expect(page.locator("#confirm-error")).toContainText(`type the cluster's name, ${name}`);
  await page.screenshot({ path: "test-results/fleet-manage.png", fullPage: true });
  await page.getByLabel(`Type ${name} to confirm`).fill(name);
  await page.getByRole("button", { name: "Deregister", exact: true }).click();
  // The engine forgets it (its objects left in place); the list follows without a reload.
  await expect(rows.filter({ hasText: name })).toHaveCount(0, { timeout: 15_000 });
});
