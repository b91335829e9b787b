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
