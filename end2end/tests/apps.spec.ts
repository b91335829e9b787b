import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test, expect } from "@playwright/test";
import { hydrated, logIn, stagingProjectApps } from "./helpers";

// Issue #17 point 4: an app installed from the catalog, its form made from the version's
// parameters, reviewed per cluster, then one row with its health in each cluster.
test("Kafka is installed in a project from a form made from its parameters and becomes healthy", async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page);
  const { project, form } = await stagingProjectApps(page, `events-${Date.now() % 100000}`);
  await form.getByLabel("App", { exact: true }).selectOption({ label: "Apache Kafka" });
  await form.getByLabel("Version").selectOption({ label: "3.8.1 (app 3.8.1)" });
  await expect(form.getByTestId("install-changelog")).toContainText("CVE-2024-31141");
  await expect(form.getByLabel("Install name")).toHaveValue("kafka");

  // Each field is checked as it is typed, by the parameter's own rules.
  const brokers = form.getByLabel("Brokers (1–9)");
  await expect(brokers).toHaveValue("3");
  await brokers.fill("12");
  await expect(form.locator("#param-brokers-error")).toHaveText("must be at most 9");
  await expect(form.getByRole("button", { name: "Review" })).toBeDisabled();
  await brokers.fill("3");
  await form.getByLabel("Storage per broker (quantity, e.g. 10Gi)").fill("20Gi");
  await expect(form.locator("#param-brokers-error")).toHaveText("");

  await form.getByRole("button", { name: "Review" }).click();
  await expect(form.getByTestId("review-summary").first()).toContainText("created in 4 clusters");
  await page.screenshot({ path: "test-results/app-install-review.png", fullPage: true });
  await form.getByRole("button", { name: "Install", exact: true }).click();

  // One row for the install, healthy in the four staging clusters once the brokers are up.
  const row = page.getByTestId("install-row").filter({ hasText: "Apache Kafka 3.8.1" });
  await expect(row).toBeVisible();
  await expect(row).toContainText("5 resources");
  await expect(row.getByRole("link", { name: "Upgrade to 3.9.0…" })).toHaveAttribute("href", /^\/apps\?upgrade=.*#app-kafka$/);
  await expect(page.getByTestId("app-health").filter({ hasText: "Healthy" })).toHaveCount(4, { timeout: 60_000 });
  await row.getByRole("button", { expanded: false }).click();
  await expect(page.getByTestId("matrix-row").filter({ hasText: "StatefulSet/kafka" })).toContainText("Healthy 3/3");
  await page.screenshot({ path: "test-results/app-installed.png", fullPage: true });

  // The Apps page counts it across the fleet.
  await page.getByRole("link", { name: "Apps", exact: true }).click();
  await hydrated(page);
  const kafka = page.getByTestId("app-card").filter({ hasText: "Apache Kafka" });
  await expect(kafka.getByTestId("app-summary")).toContainText("on 4 clusters");
  await expect(kafka.getByTestId("app-install").filter({ hasText: project.name })).toContainText("Upgrade to 3.9.0");
  await page.screenshot({ path: "test-results/apps.png", fullPage: true });
});

// Issue #17 points 3 and 4: a tenant admin uploads an app version of their own (a bad file
// first: a clear reason, nothing added), installs it with per-cluster values for the clusters a
// selector matches, and cannot remove it while it is installed.
test("an uploaded app version installs with per-cluster values", async ({ page }) => {
  test.setTimeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-app-"));
  fs.cpSync(path.join(__dirname, "../../catalog/podinfo/6.7.1"), path.join(dir, "6.7.2"), { recursive: true });
  const meta = path.join(dir, "6.7.2", "app.yaml");
  fs.writeFileSync(meta, fs.readFileSync(meta, "utf8").replace("version: 6.7.1\n", "version: 6.7.2\n").replace("<6.7.1", "<6.7.2"));
  const archive = path.join(dir, "podinfo-6.7.2.tgz");
  execFileSync("tar", ["czf", archive, "-C", dir, "6.7.2"]);
  const notAnArchive = path.join(dir, "notes.txt");
  fs.writeFileSync(notAnArchive, "not an archive\n");

  await logIn(page);
  await page.goto("/apps");
  await hydrated(page);
  await page.getByRole("button", { name: "Add an app version…" }).click();
  const upload = page.getByRole("region", { name: "Add an app version" });
  await upload.getByLabel("Archive").setInputFiles(notAnArchive);
  await upload.getByRole("button", { name: "Add version" }).click();
  await expect(upload.getByRole("alert")).toContainText("not a tar archive");
  await upload.getByLabel("Archive").setInputFiles(archive);
  await upload.getByRole("button", { name: "Add version" }).click();
  await expect(page.getByTestId("version-added")).toHaveText("Added podinfo 6.7.2. Only your organisation sees it.");
  const podinfo = page.getByTestId("app-card").filter({ hasText: "podinfo" });
  await expect(podinfo.getByTestId("own-versions")).toContainText("6.7.2");
  await page.screenshot({ path: "test-results/app-uploaded.png", fullPage: true });

  // Installed in a staging project with three replicas where region=eu.
  const { project, form } = await stagingProjectApps(page, `site-${Date.now() % 100000}`);
  await form.getByLabel("App", { exact: true }).selectOption({ label: "podinfo" });
  await form.getByLabel("Version").selectOption({ label: "6.7.2 (app 6.7.1) · your tenant's" });
  await form.getByRole("button", { name: "Add a per-cluster value" }).click();
  const rule = form.getByTestId("rule-row");
  await rule.getByLabel("Label selector").fill("region in (");
  await rule.getByLabel("Parameter").selectOption({ label: "Replicas" });
  await rule.getByLabel("Value").fill("3");
  await form.getByRole("button", { name: "Review" }).click();
  await expect(form.locator("#overrides-error")).toContainText("rule 1: selector `region in (`");
  await rule.getByLabel("Label selector").fill("region=eu");
  await form.getByRole("button", { name: "Review" }).click();
  // The Deployment two ways: three replicas in the eu clusters, the install's two elsewhere.
  await expect(form.getByRole("heading", { name: "Created in 2 clusters: staging-eu-1, staging-eu-2" })).toBeVisible();
  await expect(form.getByRole("heading", { name: "Created in 2 clusters: staging-us-1, staging-us-2" })).toBeVisible();
  await page.screenshot({ path: "test-results/app-install-rules-review.png", fullPage: true });
  await form.getByRole("button", { name: "Install", exact: true }).click();

  const row = page.getByTestId("install-row").filter({ hasText: "podinfo 6.7.2" });
  await expect(row.getByTestId("install-rules")).toHaveText("Per-cluster values: replicas=3 where region=eu");
  await expect(page.getByTestId("app-health").filter({ hasText: "Healthy" })).toHaveCount(4, { timeout: 60_000 });
  await row.getByRole("button", { expanded: false }).click();
  const deployment = page.getByTestId("matrix-row").filter({ hasText: "Deployment/podinfo" });
  await expect(deployment.getByText("Healthy 3/3")).toHaveCount(2);
  await expect(deployment.getByText("Healthy 2/2")).toHaveCount(2);
  await page.screenshot({ path: "test-results/app-installed-rules.png", fullPage: true });

  // In use, the version stays.
  await page.goto("/apps");
  await hydrated(page);
  await podinfo.getByRole("button", { name: "Remove version 6.7.2" }).click();
  await expect(podinfo.getByRole("alert")).toContainText("1 install runs podinfo 6.7.2");

  // Uninstalled from its project after a review, the version can go.
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);
  await page.getByTestId("install-row").filter({ hasText: "podinfo 6.7.2" }).getByRole("button", { name: "Uninstall…" }).click();
  const removal = page.getByRole("region", { name: "Uninstall podinfo" });
  await expect(removal.getByTestId("review-summary")).toContainText("deleted from 4 clusters");
  await page.screenshot({ path: "test-results/app-uninstall-review.png", fullPage: true });
  await removal.getByRole("button", { name: "Uninstall", exact: true }).click();
  await expect(page.getByTestId("install-row")).toHaveCount(0);
  await page.goto("/apps");
  await hydrated(page);
  await podinfo.getByRole("button", { name: "Remove version 6.7.2" }).click();
  await expect(podinfo.getByTestId("own-versions")).toHaveCount(0);
});
