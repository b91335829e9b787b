import { test, expect } from "@playwright/test";
import { ADMIN, hydrated, logIn } from "./helpers";

test("pages need a login and send you back where you were going", async ({ page }) => {
  await page.goto("/some/page?x=1");
  await expect(page).toHaveURL(/\/login\?next=\/some\/page%3Fx%3D1$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
});

test("a wrong password is refused with a clear message, in place", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  // Set a marker: a full page load (a plain form post) would wipe it.
  await page.evaluate(() => ((window as any).__stillHere = true));

  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();

  await expect(page.getByRole("alert")).toHaveText("Invalid username or password.");
  await expect(page).toHaveURL(/\/login$/);
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  // Still logged out.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});

test("an empty username is pointed out next to the field", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Password", { exact: true }).fill("whatever");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("#username-error")).toHaveText("enter a username");
});

test("the admin logs in, sees the fleet, and logs out", async ({ page, context }) => {
  await logIn(page);
  await expect(page.getByTestId("current-user")).toContainText("admin");
  await expect(page.getByTestId("current-user")).toContainText("default");
  await page.screenshot({ path: "test-results/fleet-after-login.png", fullPage: true });

  const cookie = (await context.cookies()).find((c) => c.name === "flotilla_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");

  // A reload is rendered by the server for the logged-in session.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();

  await hydrated(page);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});
