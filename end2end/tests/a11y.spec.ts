import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, logIn } from "./helpers";

/** Serious or critical findings of axe-core's WCAG 2 A/AA checks, by page. */
const findings: string[] = [];

/** Runs axe-core's WCAG 2 A/AA checks on the page as it is now. */
async function accessible(page: Page, what: string) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  for (const v of result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
    const where = v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ");
    findings.push(`${what}: ${v.id} (${v.impact}): ${v.help} — ${where}`);
  }
}

async function api(page: Page, endpoint: string, form: Record<string, string>) {
  const answer = await page.request.post(`/api/${endpoint}`, { form, headers: { Accept: "application/json" } });
  expect(answer.ok(), `${endpoint}: ${answer.status()}`).toBeTruthy();
  return answer.json();
}

// Issue #5 point 9: labelled controls, contrast, roles: checked by axe on every page.
test("every page passes axe's WCAG A/AA checks", async ({ page }) => {
  // Twenty pages, each analysed by axe (1–3 s apiece on two cores).
  test.setTimeout(180_000);
  await page.goto("/login");
  await hydrated(page);
  await accessible(page, "login");
  await logIn(page);
  await hydrated(page);
  await accessible(page, "fleet");
  await page.getByRole("button", { name: "Register cluster" }).click();
  await accessible(page, "fleet, registering");

  const run = Date.now();
  const ws = await api(page, "workspaces/create", { name: `a11y-${run}`, selector: "env=prod,region=us" });
  const project = await api(page, "projects/create", { workspace_id: ws.id, name: `a11y-${run}`, selector: "" });
  const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n";
  const added = await api(page, "projects/add-resource", { project_id: project.id, yaml: cm });
  for (const [path, what] of [
    ["/workspaces", "workspaces"],
    [`/workspaces/${ws.id}`, "workspace"],
    [`/projects/${project.id}`, "project"],
    [`/resources/${added.id}`, "resource"],
    ["/audit", "audit log"],
    ["/people", "people"],
    ["/tenants", "tenants"],
    ["/account", "account"],
  ]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await accessible(page, what);
  }
  // A tenant's page: its provider form, group rules and local accounts.
  await page.goto("/tenants");
  await page.getByTestId("tenant-row").getByRole("link", { name: "Default", exact: true }).click();
  await expect(page.getByRole("heading", { name: "OpenID Provider" })).toBeVisible();
  await hydrated(page);
  await accessible(page, "tenant");
  // The resource's editor and history, with a review open.
  await page.goto(`/resources/${added.id}`);
  await hydrated(page);
  await page.getByRole("tab", { name: "Edit" }).click();
  await page.getByRole("button", { name: "Add override" }).click();
  await accessible(page, "resource editor with an override row");
  await page.getByRole("button", { name: "Remove this override" }).click();
  await page.getByRole("textbox", { name: "YAML", exact: true }).fill(cm.replace('"1"', '"2"'));
  await page.getByRole("button", { name: "Review changes" }).click();
  await expect(page.getByTestId("review")).toBeVisible();
  await accessible(page, "resource editor with a review");
  await page.getByRole("tab", { name: "History" }).click();
  await expect(page.getByTestId("revision")).toHaveCount(1);
  await accessible(page, "resource history");

  // Apps: the catalog with the upload panel open, and the install form with a per-cluster row.
  await page.goto("/apps");
  await hydrated(page);
  await accessible(page, "apps");
  await page.getByRole("button", { name: "Add an app version…" }).click();
  await accessible(page, "apps, adding a version");
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);
  await page.getByRole("tab", { name: /^Apps/ }).click();
  await page.getByRole("button", { name: "Add a per-cluster value" }).click();
  await accessible(page, "project, install form with a per-cluster row");
  // Rollouts: the list and a rollout's live page (the ConfigMap rolled out, paused).
  const edit = { yaml: cm.replace('"1"', '"3"'), placement: {}, overrides: [] };
  const started = await page.request.post("/api/resources/roll-out", {
    data: { id: added.id, version: 1, edit, strategy: {} },
    headers: { Accept: "application/json" },
  });
  expect(started.ok(), await started.text()).toBeTruthy();
  const rollout: string = await started.json();
  await api(page, "rollouts/act", { id: rollout, action: "pause" });
  for (const [path, what] of [["/rollouts", "rollouts"], [`/rollouts/${rollout}`, "rollout"]]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await accessible(page, what);
  }
  expect(findings, findings.join("\n")).toEqual([]);
});

test("the main actions work from the keyboard, with focus visible", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  // Tab from the top of the page to "Register cluster" and open it with Enter.
  await page.keyboard.press("Tab");
  let found = false;
  for (let i = 0; i < 15 && !found; i++) {
    const name = await page.evaluate(() => document.activeElement?.textContent?.trim());
    if (name === "Register cluster") found = true;
    else await page.keyboard.press("Tab");
  }
  expect(found, "Register cluster is reachable with Tab").toBeTruthy();
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
  expect(outline, "the focused button shows an outline").not.toBe("none");
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Kubeconfig")).toBeVisible();
});
