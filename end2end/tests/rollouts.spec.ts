import { test, expect, Page } from "@playwright/test";
import { hydrated, logIn, stagingProjectApps } from "./helpers";

// Issue #17 point 14: the Kafka story in the browser. An upgrade with a canary moves wave by
// wave on the rollout page; an upgrade to a version that never becomes healthy (in the demo
// fleets, apache/kafka:3.8.0) fails on the canary and rolls back by itself.

/** A project over the four staging clusters with Kafka 3.7.1 installed (from its Apps tab), healthy. */
async function kafkaProject(page: Page, name: string) {
  const { project, form } = await stagingProjectApps(page, name);
  await form.getByLabel("App", { exact: true }).selectOption({ label: "Apache Kafka" });
  await form.getByLabel("Version").selectOption({ label: "3.7.1 (app 3.7.1)" });
  await form.getByRole("button", { name: "Review" }).click();
  await form.getByRole("button", { name: "Install", exact: true }).click();
  await expect(page.getByTestId("app-health").filter({ hasText: "Healthy" })).toHaveCount(4, { timeout: 60_000 });
  return project;
}

async function openUpgrade(page: Page, project: string, to: string) {
  await page.getByRole("link", { name: "Apps", exact: true }).click();
  await hydrated(page);
  const kafka = page.getByTestId("app-card").filter({ hasText: "Apache Kafka" });
  await kafka.getByTestId("app-install").filter({ hasText: project }).getByRole("button", { name: /Upgrade to/ }).click();
  const form = kafka.getByTestId("upgrade-form");
  await form.getByLabel("To version").selectOption({ label: to });
  return form;
}

test("an upgrade goes canary first, then wave by wave, live", async ({ page }) => {
  test.setTimeout(180_000);
  await logIn(page);
  const project = await kafkaProject(page, "orders");
  const form = await openUpgrade(page, project.name, "3.8.1");
  await form.getByLabel("Wave size", { exact: true }).fill("2");
  await form.getByLabel("Wave size unit").selectOption("clusters");
  await form.getByLabel("Soak (s)").fill("3");
  await form.getByLabel("Wave size", { exact: true }).fill("0");
  await expect(form.getByRole("alert")).toContainText("a wave holds at least one cluster");
  await form.getByLabel("Wave size", { exact: true }).fill("2");
  await form.getByRole("button", { name: "Preview the plan" }).click();
  // The plan: one canary, then two waves over the other three clusters.
  await expect(form.getByTestId("plan")).toContainText("4 clusters in 3 waves");
  await expect(form.getByTestId("plan-wave")).toHaveCount(3);
  await page.screenshot({ path: "test-results/rollout-plan.png", fullPage: true });
  await form.getByRole("button", { name: "Start the rollout" }).click();

  await expect(page).toHaveURL(/\/rollouts\//);
  await hydrated(page);
  await expect(page.getByTestId("rollout-title")).toHaveText("Apache Kafka 3.7.1 → 3.8.1");
  const canary = page.getByTestId("wave").filter({ hasText: "canary" });
  // The canary moves first; the first wave waits until it is done.
  await expect(canary.getByTestId("step")).toHaveAttribute("data-state", /Updating|Soaking|Done/, { timeout: 30_000 });
  await expect(page.getByTestId("wave").nth(1).getByTestId("step").first()).toHaveAttribute("data-state", "Pending");
  await page.screenshot({ path: "test-results/rollout-canary.png", fullPage: true });
  await expect(canary.getByTestId("step")).toHaveAttribute("data-state", "Done", { timeout: 60_000 });
  await expect(page.getByTestId("wave").nth(1).getByTestId("step").first()).not.toHaveAttribute("data-state", "Pending", { timeout: 30_000 });
  await page.screenshot({ path: "test-results/rollout-waves.png", fullPage: true });
  await expect(page.getByTestId("rollout-state")).toHaveAttribute("data-state", "Succeeded", { timeout: 120_000 });
  await expect(page.getByTestId("rollout-progress")).toContainText("4 of 4 clusters settled");
  await expect(page.getByTestId("timeline")).toContainText("started by admin");
  await page.screenshot({ path: "test-results/rollout-succeeded.png", fullPage: true });

  // Listed, with who started it and how it ended.
  await page.getByRole("link", { name: "Rollouts", exact: true }).click();
  await hydrated(page);
  const row = page.getByTestId("rollout-row").filter({ hasText: "Apache Kafka 3.7.1 → 3.8.1" }).first();
  await expect(row).toContainText("admin");
  await expect(row).toContainText("4 of 4 clusters updated");
});

test("an upgrade that does not become healthy fails on the canary and rolls back by itself", async ({ page }) => {
  test.setTimeout(180_000);
  await logIn(page);
  const project = await kafkaProject(page, "payments");
  // Upgraded from the project itself: its install row links to the upgrade, this install chosen.
  await page.getByTestId("install-row").getByRole("link", { name: "Upgrade to 3.9.0…" }).click();
  await expect(page).toHaveURL(/\/apps\?upgrade=/);
  await hydrated(page);
  const form = page.getByTestId("app-card").filter({ hasText: "Apache Kafka" }).getByTestId("upgrade-form");
  await expect(form).toBeVisible();
  await expect(form.getByRole("checkbox", { checked: true })).toHaveCount(1);
  await expect(form.getByRole("checkbox", { name: new RegExp(project.name) })).toBeChecked();
  await form.getByLabel("To version").selectOption({ label: "3.8.0" });
  await form.getByLabel("Progress deadline (s)").fill("20");
  await form.getByRole("button", { name: "Preview the plan" }).click();
  await expect(form.getByTestId("plan")).toContainText("4 clusters");
  await form.getByRole("button", { name: "Start the rollout" }).click();
  await expect(page).toHaveURL(/\/rollouts\//);
  await hydrated(page);

  const canary = page.getByTestId("wave").filter({ hasText: "canary" }).getByTestId("step");
  await expect(page.getByTestId("rollout-state")).toHaveAttribute("data-state", "Paused", { timeout: 90_000 });
  await expect(page.getByTestId("rollout-message")).toContainText("the canary");
  await expect(canary).toHaveAttribute("data-state", "RolledBack", { timeout: 90_000 });
  await expect(canary).toContainText("back on the previous revision");
  await expect(page.getByTestId("timeline")).toContainText("StatefulSet kafka");
  // No other cluster was touched.
  for (const step of await page.getByTestId("wave").filter({ hasNotText: "canary" }).getByTestId("step").all()) {
    await expect(step).toHaveAttribute("data-state", "Pending");
  }
  await page.screenshot({ path: "test-results/rollout-rolled-back.png", fullPage: true });

  // Abort: the install returns to 3.7.1.
  await page.getByRole("button", { name: "Abort and roll back" }).click();
  await expect(page.getByTestId("rollout-state")).toHaveAttribute("data-state", "Aborted", { timeout: 60_000 });
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);
  await page.getByRole("tab", { name: /^Apps/ }).click();
  await expect(page.getByTestId("install-row").filter({ hasText: "Apache Kafka 3.7.1" })).toBeVisible();
});
