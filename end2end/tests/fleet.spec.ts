import { test, expect } from "@playwright/test";
import { hydrated, logIn } from "./helpers";

test("the demo fleet is listed and searchable", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  const rows = page.getByTestId("cluster-row");
  await expect(rows).toHaveCount(12);
  await expect(page.getByTestId("fleet-count")).toHaveText("12 clusters");
  await expect(page.getByRole("cell", { name: /prod-eu-1/ })).toBeVisible();

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
