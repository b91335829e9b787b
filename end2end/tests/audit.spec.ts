import { test, expect } from "@playwright/test";
import { hydrated, logIn } from "./helpers";

// Issue #5 point 7: the audit log, filterable, with the filters in the address.
test("the audit log lists who did what and filters by it", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await hydrated(page);
  const rows = page.getByTestId("audit-row");
  await expect(rows.first()).toBeVisible();

  await page.getByLabel("What").selectOption("login");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/[?&]action=login(&|$)/);
  await expect(rows.first()).toContainText("admin");
  const actions = await rows.locator("td:nth-child(3)").allTextContents();
  expect(actions.length).toBeGreaterThan(0);
  expect(new Set(actions)).toEqual(new Set(["login"]));
  await page.screenshot({ path: "test-results/audit-log.png", fullPage: true });

  // Nothing matches: the page says what to do.
  await page.getByLabel("Target").fill("no-such-target-anywhere");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No entries match")).toBeVisible();
  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(rows.first()).toBeVisible();
});
