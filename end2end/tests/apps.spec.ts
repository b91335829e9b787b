import { test, expect } from "@playwright/test";
import { hydrated, logIn } from "./helpers";

// Issue #17 point 4: an app installed from the catalog, its form made from the version's
// parameters, reviewed per cluster, then one row with its health in each cluster.
test("Kafka is installed in a project from a form made from its parameters and becomes healthy", async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page);
  const post = async (endpoint: string, form: Record<string, string>) => {
    const answer = await page.request.post(`/api/${endpoint}`, { form, headers: { Accept: "application/json" } });
    expect(answer.ok()).toBeTruthy();
    return answer.json();
  };
  const ws = await post("workspaces/create", { name: `streams-${Date.now()}`, selector: "env=staging" });
  const project = await post("projects/create", { workspace_id: ws.id, name: `events-${Date.now() % 100000}`, selector: "" });
  await page.goto(`/projects/${project.id}`);
  await hydrated(page);

  await page.getByRole("tab", { name: /^Apps/ }).click();
  const form = page.getByRole("region", { name: "Install an app" });
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
  await row.getByRole("button").click();
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
