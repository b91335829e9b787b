import { test, expect, type Page } from "@playwright/test";
import {
  FLOTILLA,
  PROVIDERS,
  callServer,
  hydrated,
  logIn,
  logInWithProvider,
  newSimulatedCluster,
  signInAtProvider,
} from "./helpers";

// Two tenants, each with its own OpenID Provider (npm oidc-provider, end2end/oidc). The tests
// build on each other: the platform admin sets the tenants up, Acme's admin makes a project,
// then people of both tenants try what they may and may not do.
test.describe.configure({ mode: "serial" });

let acmeProject = "";

/** As the platform admin, on a tenant's page. */
async function openTenant(page: Page, name: string) {
  await logIn(page);
  await page.getByRole("link", { name: "Tenants" }).click();
  await page.getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
}

/** On a tenant's rules: members of `group` get `role` (on `scope`, if the role needs one). */
async function addRule(page: Page, group: string, role: string, scope?: string) {
  await page.getByLabel("Group (as the provider names it)").fill(group);
  await page.getByLabel("Role", { exact: true }).selectOption({ label: role });
  if (scope) await page.getByLabel("On", { exact: true }).selectOption({ label: scope });
  await page.getByRole("button", { name: "Add rule" }).click();
  await expect(page.getByTestId("rule").filter({ hasText: group })).toBeVisible();
  // The form empties for the next rule.
  await expect(page.getByLabel("Group (as the provider names it)")).toHaveValue("");
}

test("the platform admin gives two tenants their own providers, tested before saving", async ({ page }) => {
  await logIn(page);
  await page.getByRole("link", { name: "Tenants" }).click();
  await expect(page.getByRole("heading", { name: "Tenants" })).toBeVisible();
  await hydrated(page);
  for (const [slug, name, group] of [
    ["acme", "Acme", "acme-platform"],
    ["globex", "Globex", "globex-admins"],
  ]) {
    await page.getByLabel("Short name (in its login address)").fill(slug);
    await page.getByLabel("Display name").fill(name);
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.getByRole("link", { name, exact: true }).click();
    await expect(page.getByTestId("redirect-uri")).toHaveText(`${FLOTILLA}/t/${slug}/callback`);

    await page.getByLabel("Issuer URL").fill(PROVIDERS[slug]);
    await page.getByLabel("Client id").fill("flotilla");
    // A wrong secret: the test says what is wrong.
    await page.getByLabel("Client secret").fill("not-the-secret");
    await page.getByRole("button", { name: "Test configuration" }).click();
    await expect(page.getByTestId("test-result")).toContainText("the provider refused the client id or secret");
    await page.getByLabel("Client secret").fill(`${slug}-client-secret`);
    await page.getByRole("button", { name: "Test configuration" }).click();
    await expect(page.getByTestId("test-result")).toContainText("The provider answers and accepts this client.");
    await expect(page.getByTestId("test-result")).toContainText(`${PROVIDERS[slug]}/session/end`);
    await page.getByRole("button", { name: "Save provider" }).click();
    await expect(page.getByText("Saved.")).toBeVisible();
    await expect(page.getByLabel("Client secret")).toHaveAttribute("placeholder", "stored (type to replace)");
    await addRule(page, group, "Tenant admin");
    await page.screenshot({ path: `test-results/tenant-${slug}.png`, fullPage: true });
    await page.getByRole("link", { name: "Tenants" }).first().click();
  }
  await expect(page.getByTestId("tenant-row").filter({ hasText: "acme" })).toContainText(PROVIDERS.acme);
});

test("Acme's admin logs in through Acme's provider and sees only Acme's fleet", async ({ page }) => {
  await logInWithProvider(page, "acme", "alice");
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await expect(page.getByTestId("current-user")).toContainText("alice");
  await expect(page.getByTestId("current-user")).toContainText("acme");
  // The default tenant's twelve demo clusters are not Acme's.
  await expect(page.getByText("No clusters registered yet")).toBeVisible();

  const kubeconfig = await newSimulatedCluster("acme-prod-1");
  expect(
    (await callServer(page, "fleet/register", { kubeconfig, context: "acme-prod-1", name: "acme-prod-1", labels: "env=prod" })).ok(),
  ).toBeTruthy();
  await page.reload();
  await expect(page.getByTestId("cluster-row")).toHaveCount(1);
  await expect(page.getByTestId("cluster-row")).toContainText("acme-prod-1");

  const ws = await (await callServer(page, "workspaces/create", { name: "apps", selector: "env=prod" })).json();
  const project = await (
    await callServer(page, "projects/create", { workspace_id: ws.id, name: "web", selector: "" })
  ).json();
  acmeProject = project.id;
  const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n";
  expect((await callServer(page, "projects/add-resource", { project_id: acmeProject, yaml })).ok()).toBeTruthy();
  await page.goto(`/projects/${acmeProject}`);
  // Acme's own cluster receives it.
  await expect(page.locator('tr[data-resource="ConfigMap/settings"]')).toContainText("Synced");
});

test("a viewer sees the project but cannot change it, on the page or on the server", async ({ page }) => {
  expect(acmeProject).not.toBe("");
  await openTenant(page, "Acme");
  await addRule(page, "acme-viewers", "Project viewer", "apps/web");
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);

  await logInWithProvider(page, "acme", "victor");
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Register cluster" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await page.getByRole("link", { name: "Workspaces" }).click();
  await expect(page.getByRole("link", { name: "apps", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "New workspace" })).toHaveCount(0);

  await page.goto(`/projects/${acmeProject}`);
  await hydrated(page);
  await expect(page.locator('tr[data-resource="ConfigMap/settings"]')).toBeVisible();
  // Their group reaches the cluster too: a RoleBinding to `view` in the project's namespace.
  await expect(page.locator('tr[data-resource="RoleBinding/flotilla-project-viewers"]')).toContainText("Synced");
  await expect(page.getByTestId("read-only")).toBeVisible();
  await expect(page.getByRole("button", { name: "Edit selector" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Review/ })).toHaveCount(0);
  await page.getByRole("link", { name: "ConfigMap/settings" }).click();
  await expect(page.getByRole("tab", { name: "Edit" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete…" })).toHaveCount(0);

  // The server refuses too.
  const refused = await callServer(page, "projects/add-configmap", {
    project_id: acmeProject, name: "sneaky", data: "a=b", override_cluster: "", override_data: "",
  });
  expect(refused.status()).toBe(403);
  expect(await refused.text()).toContain("only view");
});

// #16: nothing reaches a member that the person's role could not write there themselves.
test("an editor's escalations are refused in the review, with the reason shown", async ({ page }) => {
  expect(acmeProject).not.toBe("");
  await openTenant(page, "Acme");
  await addRule(page, "acme-editors", "Project editor", "apps/web");
  await addRule(page, "acme-ops", "Workspace editor", "apps");
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);

  // A project editor binds cluster-admin in the project's namespace: refused before anything is saved.
  await logInWithProvider(page, "acme", "eve");
  await page.goto(`/projects/${acmeProject}`);
  await hydrated(page);
  await page.getByRole("tab", { name: /^Roles/ }).click();
  const rbac = page.getByRole("region", { name: "Add a Role, RoleBinding or ServiceAccount (YAML)" });
  await rbac.getByLabel("YAML", { exact: true }).fill(
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: root\n" +
      "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\n" +
      "subjects:\n- kind: Group\n  name: acme-editors\n",
  );
  await rbac.getByRole("button", { name: "Review" }).click();
  await expect(rbac.getByRole("alert")).toContainText("A RoleBinding to the ClusterRole cluster-admin");
  await expect(rbac.getByRole("button", { name: "Add object" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/refused-rolebinding.png", fullPage: true });
  // Someone else at the same browser: no session left here or at the provider.
  await page.context().clearCookies();

  // A workspace editor's ClusterRoleBinding would reach every cluster of the workspace: a tenant admin's.
  await logInWithProvider(page, "acme", "wes");
  await page.getByRole("link", { name: "Workspaces" }).click();
  await page.getByRole("link", { name: "apps", exact: true }).click();
  await hydrated(page);
  const form = page.getByRole("region", { name: "Add a cluster-scoped object (YAML)" });
  await form.getByLabel("YAML", { exact: true }).fill(
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: ops-view\n" +
      "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\n" +
      "subjects:\n- kind: Group\n  name: acme-ops\n",
  );
  await form.getByRole("button", { name: "Review" }).click();
  await expect(form.getByRole("alert")).toContainText("A ClusterRoleBinding needs a tenant admin");
  await expect(form.getByRole("button", { name: "Add object" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/refused-clusterrolebinding.png", fullPage: true });
});

test("a user of another tenant cannot reach Acme's project, even by its address", async ({ page }) => {
  expect(acmeProject).not.toBe("");
  await logInWithProvider(page, "globex", "bob");
  await expect(page.getByTestId("current-user")).toContainText("globex");
  await expect(page.getByText("No clusters registered yet")).toBeVisible();

  const response = await page.goto(`/projects/${acmeProject}`);
  expect(response?.status()).toBe(404);
  await expect(page.getByText("Not found.")).toBeVisible();
  await expect(page.getByText("settings")).toHaveCount(0);
  const view = await callServer(page, "projects/view", { id: acmeProject });
  expect(view.status()).toBe(404);
});

test("a login whose state was tampered with is refused", async ({ page, context }) => {
  // Playwright does not route the requests of redirects, so follow the provider's answers
  // to the sign-in and consent forms here, and change the state on the way back to Flotilla.
  await page.route(`${PROVIDERS.acme}/interaction/**`, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    const first = await route.fetch({ maxRedirects: 0 });
    let location = new URL(first.headers()["location"], PROVIDERS.acme).href;
    while (location.startsWith(`${PROVIDERS.acme}/auth/`)) {
      const next = await context.request.get(location, { maxRedirects: 0 });
      location = new URL(next.headers()["location"], PROVIDERS.acme).href;
    }
    if (location.startsWith(`${FLOTILLA}/t/acme/callback`)) {
      const url = new URL(location);
      expect(url.searchParams.get("code")).toBeTruthy();
      url.searchParams.set("state", `${url.searchParams.get("state")}-tampered`);
      location = url.toString();
    }
    await route.fulfill({ status: 303, headers: { location, "set-cookie": first.headers()["set-cookie"] ?? "" } });
  });
  await page.goto("/t/acme/login");
  await signInAtProvider(page, "acme", "alice");
  await expect(page).toHaveURL(/\/login\?tenant=acme&error=state$/);
  await expect(page.getByRole("alert")).toContainText("The login could not be verified");
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});

test("someone whose groups have no role is told so", async ({ page }) => {
  await logInWithProvider(page, "acme", "nora");
  await expect(page).toHaveURL(/\/login\?tenant=acme&error=no-role$/);
  await expect(page.getByRole("alert")).toContainText("none of your groups has a role");
});

test("a tenant admin disables someone (session ended, login refused) and gives a group a role and takes it back, on the People page", async ({ page, browser }) => {
  // Victor is logged in, in a browser of his own.
  const victorsBrowser = await browser.newContext({ baseURL: FLOTILLA });
  const victor = await victorsBrowser.newPage();
  await logInWithProvider(victor, "acme", "victor");
  await expect(victor.getByRole("heading", { name: "Fleet" })).toBeVisible();

  await logInWithProvider(page, "acme", "alice");
  await hydrated(page);
  await page.getByRole("link", { name: "People" }).click();
  await expect(page.getByRole("heading", { name: "People" })).toBeVisible();
  const row = (name: string) => page.locator(`tr[data-username="${name}"]`);
  await expect(row("alice")).toContainText("Tenant admin (groups)");
  await expect(row("alice").getByRole("button")).toHaveCount(0);
  await expect(row("victor")).toContainText("Project viewer on apps/web (groups)");
  await page.getByRole("button", { name: "Disable victor" }).click();
  await expect(row("victor").getByTestId("person-status")).toHaveText("Disabled");
  await page.screenshot({ path: "test-results/people.png", fullPage: true });

  // His open page is logged out at its next step, and the provider's word no longer lets him in.
  await victor.reload();
  await expect(victor).toHaveURL(/\/login/);
  await victor.goto("/t/acme/login");
  await expect(victor).toHaveURL(/\/login\?tenant=acme&error=disabled$/);
  await expect(victor.getByRole("alert")).toContainText("Your account is disabled.");

  await page.getByRole("button", { name: "Enable victor" }).click();
  await expect(row("victor").getByTestId("person-status")).toHaveText("Active");
  await victor.goto("/t/acme/login");
  await expect(victor.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await victorsBrowser.close();

  // Acme's admin gives the interns' group a role on the same page; Nora, refused before, gets in.
  await addRule(page, "acme-interns", "Project viewer", "apps/web");
  const norasBrowser = await browser.newContext({ baseURL: FLOTILLA });
  const nora = await norasBrowser.newPage();
  await logInWithProvider(nora, "acme", "nora");
  await expect(nora.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await expect(nora.getByTestId("current-user")).toContainText("nora");
  expect((await nora.goto(`/projects/${acmeProject}`))?.status()).toBe(200);

  // The rule removed: Nora's open session loses the project at once, without logging in again.
  await page.getByRole("button", { name: "Remove the rule for acme-interns" }).click();
  await expect(page.getByTestId("rule").filter({ hasText: "acme-interns" })).toHaveCount(0);
  expect((await nora.goto(`/projects/${acmeProject}`))?.status()).toBe(404);
  expect((await callServer(nora, "projects/view", { id: acmeProject })).status()).toBe(404);
  await norasBrowser.close();
});

test("logging out ends the session here and at the provider", async ({ page }) => {
  await logInWithProvider(page, "acme", "alice");
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "Log out" }).click();
  // The provider asks whether to end its session too, then sends the browser back.
  await expect(page).toHaveURL(new RegExp(`^${PROVIDERS.acme}/session/end`));
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page).toHaveURL(/\/login\?tenant=acme$/);
  await expect(page.getByRole("heading", { name: "Log in to acme" })).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  // The provider's session is over too: logging in asks for the password again.
  await page.goto("/t/acme/login");
  await expect(page.locator('input[name="password"]')).toBeVisible();
});
