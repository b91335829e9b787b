import { test, expect } from "@playwright/test";
import { hydrated, logIn, newSimulatedCluster, SIMULATOR, simulatorAdmin } from "./helpers";

/** Reads `path` from member `cluster` with the member's own admin token (not Flotilla's). */
async function asAdmin(cluster: string, path: string) {
  const api = await simulatorAdmin();
  const config = await (await api.get(`${SIMULATOR}/admin/clusters/${cluster}/kubeconfig`)).json();
  const server = config.clusters[0].cluster.server;
  const token = config.users[0].user.token;
  const answer = await api.get(`${server}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const body = answer.ok() ? await answer.json() : null;
  await api.dispose();
  return { status: answer.status(), body };
}

/** The names of Flotilla's token Secrets in the member. */
async function tokenSecrets(cluster: string): Promise<string[]> {
  const { body } = await asAdmin(cluster, "/api/v1/namespaces/flotilla-system/secrets");
  return (body?.items ?? [])
    .map((s: { metadata: { name: string } }) => s.metadata.name)
    .filter((n: string) => n.startsWith("flotilla-hub-token-"));
}

test("join a cluster from its admin kubeconfig: Flotilla keeps only its own identity, and rotates it", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  const name = `joined-${Date.now() % 100000}`;
  // An admin kubeconfig as kind writes it: a client certificate, used once and never kept.
  const kubeconfig = await newSimulatedCluster(name, "certificate");
  expect(kubeconfig).toContain("client-certificate-data");

  await page.getByRole("button", { name: "Register cluster" }).click();
  await page.getByLabel("Kubeconfig").fill(kubeconfig);
  await page.getByRole("button", { name: "Read contexts" }).click();
  await expect(page.getByLabel("Context")).toHaveValue(name);
  const join = page.getByLabel("Join: create Flotilla's own identity (recommended)");
  await expect(join).toBeChecked();
  await page.getByLabel("Labels", { exact: true }).fill("purpose=join");
  await page.screenshot({ path: "test-results/join-register.png", fullPage: true });
  await page.getByRole("button", { name: "Register cluster" }).click();

  const row = page.getByTestId("cluster-row").filter({ hasText: name });
  await expect(row).toBeVisible();
  await expect(row.getByRole("listitem")).toContainText(["flotilla.io/identity=flotilla-hub", "purpose=join"]);
  await expect(row).toContainText("Ready", { timeout: 15_000 });

  // In the member: Flotilla's service account, one token of it, and its grant.
  expect((await asAdmin(name, "/api/v1/namespaces/flotilla-system/serviceaccounts/flotilla-hub")).status).toBe(200);
  const hubRole = await asAdmin(name, "/apis/rbac.authorization.k8s.io/v1/clusterroles/flotilla:hub");
  expect(hubRole.status).toBe(200);
  expect(JSON.stringify(hubRole.body.rules)).not.toContain('"*"');
  const before = await tokenSecrets(name);
  expect(before).toHaveLength(1);

  // Manage → Rotate credentials: a new token replaces the old one in the member.
  await row.getByRole("button", { name: `Manage ${name}` }).click();
  await expect(page.getByTestId("identity")).toContainText("flotilla-system/flotilla-hub");
  await page.screenshot({ path: "test-results/join-manage.png", fullPage: true });
  await page.getByRole("button", { name: "Rotate credentials" }).click();
  // The new token is stored first (the row follows live: its version moved, which closes
  // the panel), then the old one is deleted from the member.
  await expect(page.getByRole("button", { name: "Rotate credentials" })).toHaveCount(0, { timeout: 15_000 });
  await expect
    .poll(async () => {
      const now = await tokenSecrets(name);
      return now.length === 1 && now[0] !== before[0];
    }, { timeout: 15_000 })
    .toBe(true);
  await expect(row).toContainText("Ready");

  // Update the grant with the admin kubeconfig: the page says what it now grants.
  await row.getByRole("button", { name: `Manage ${name}` }).click();
  await page.getByRole("button", { name: "Update the grant…" }).click();
  await page.getByTestId("update-grant").getByRole("textbox", { name: "Admin kubeconfig" }).fill(kubeconfig);
  await page.screenshot({ path: "test-results/join-grant.png", fullPage: true });
  await page.getByRole("button", { name: "Update grant", exact: true }).click();
  await expect(page.getByTestId("fleet-notice")).toContainText(`${name}'s grant is updated`, { timeout: 15_000 });
  await expect(row).toContainText("Ready");

  // Deregister and unjoin with the admin kubeconfig: the row goes, the page says what
  // became of the identity, and the member no longer has it.
  await row.getByRole("button", { name: `Manage ${name}` }).click();
  await page.getByLabel("Remove it (unjoin), with an admin kubeconfig").check();
  await page.getByLabel(`Type ${name} to confirm`).fill(name);
  await page.getByRole("button", { name: "Deregister and unjoin" }).click();
  await expect(page.getByText("paste a kubeconfig with admin access")).toBeVisible();
  await page.getByRole("textbox", { name: "Admin kubeconfig" }).fill(kubeconfig);
  await page.screenshot({ path: "test-results/join-unjoin.png", fullPage: true });
  await page.getByRole("button", { name: "Deregister and unjoin" }).click();
  await expect(page.getByTestId("fleet-notice")).toContainText(`${name} is deregistered and Flotilla's identity was removed`, {
    timeout: 20_000,
  });
  await expect(page.getByTestId("cluster-row").filter({ hasText: name })).toHaveCount(0);
  await page.screenshot({ path: "test-results/join-unjoined.png", fullPage: true });
  expect((await asAdmin(name, "/api/v1/namespaces/flotilla-system")).status).toBe(404);
  expect((await asAdmin(name, "/apis/rbac.authorization.k8s.io/v1/clusterroles/flotilla:hub")).status).toBe(404);
});
