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

// #16 point 8: a local account changes its own password from its account page.
test("a local account changes its password on its account page", async ({ page }) => {
  await logIn(page);
  const tenants = await (await page.request.post("/api/tenants/list", { headers: { Accept: "application/json" } })).json();
  const tenant = tenants.find((t: { slug: string }) => t.slug === "default");
  const username = `pw-${Date.now()}`;
  const created = await page.request.post("/api/tenants/add-local-user", {
    form: { id: tenant.id, username, password: "first-password-long", role: "tenant_admin" },
    headers: { Accept: "application/json" },
  });
  expect(created.ok()).toBeTruthy();
  await page.context().clearCookies();

  await logIn(page, username, "first-password-long");
  await page.getByTestId("current-user").click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Current password").fill("not-it");
  await page.getByLabel("New password").fill("second-password-long");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("this is not your current password")).toBeVisible();
  await page.getByLabel("Current password").fill("first-password-long");
  await page.getByLabel("New password").fill("short");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#new_password-error")).toHaveText("at least 12 characters");
  await page.getByLabel("New password").fill("second-password-long");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByTestId("password-changed")).toBeVisible();
  await page.screenshot({ path: "test-results/account-password.png", fullPage: true });

  await page.context().clearCookies();
  await logIn(page, username, "second-password-long");
});
