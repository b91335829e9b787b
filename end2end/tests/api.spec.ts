import { test, expect, request } from "@playwright/test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { FLOTILLA, hydrated, logIn, post } from "./helpers";

test("the OpenAPI document is valid OpenAPI (checked by swagger-parser)", async () => {
  const api = await request.newContext();
  const answer = await api.get(`${FLOTILLA}/api/v1/openapi.json`);
  expect(answer.status()).toBe(200);
  const doc = await answer.json();
  // Throws, naming what is wrong, for a document that breaks the OpenAPI schema or its rules
  // (unresolved $refs, duplicate operation ids, path parameters not declared).
  const validated = await SwaggerParser.validate(structuredClone(doc));
  expect(validated.info.title).toBe("Flotilla");
  expect(Object.keys(doc.paths)).toContain("/api/v1/projects/{id}/export");
  await api.dispose();
});

test("a token made on the account page drives the REST API until it is revoked", async ({ page }) => {
  await logIn(page);
  const ws = await post(page, "workspaces/create", { name: `api-${Date.now() % 100000}`, selector: "env=staging" });
  const project = await post(page, "projects/create", { workspace_id: ws.id, name: `api-${Date.now() % 100000}`, selector: "" });

  await page.goto("/account");
  await hydrated(page);
  const name = `ci-${Date.now() % 100000}`;
  await page.locator("#token-name").fill(name);
  await page.getByLabel("Access").selectOption("edit");
  await page.getByRole("button", { name: "Make token" }).click();
  const shown = page.getByTestId("new-token");
  await expect(shown).toContainText(`Token ${name} made. Copy it now`);
  const secret = await shown.getByLabel("The new token").inputValue();
  expect(secret).toMatch(/^flt_[A-Za-z0-9]{40}$/);
  await expect(page.locator("#token-name")).toHaveValue("");
  const row = page.getByTestId("token").filter({ hasText: name });
  await expect(row).toContainText("edit");
  await expect(row).toContainText("never");
  await page.screenshot({ path: "test-results/api-token.png", fullPage: true });

  // What a pipeline does with it.
  const api = await request.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  const added = await api.post(`${FLOTILLA}/api/v1/projects/${project.id}/resources`, {
    data: { yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-ci}\ndata: {a: '1'}\n" },
  });
  expect(added.status()).toBe(201);
  const resource = await added.json();
  await expect
    .poll(async () => {
      const statuses = await (await api.get(`${FLOTILLA}/api/v1/resources/${resource.id}/status`)).json();
      return statuses.filter((s: { code: string }) => s.code === "Synced").length;
    }, { timeout: 20_000 })
    .toBe(project.clusters);
  // An edit token cannot make workspaces.
  expect((await api.post(`${FLOTILLA}/api/v1/workspaces`, { data: { name: "nope" } })).status()).toBe(403);

  // Its last use shows; revoked, it stops working.
  await page.reload();
  await hydrated(page);
  await expect(row).not.toContainText("never");
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(row).toContainText("revoked");
  expect((await api.get(`${FLOTILLA}/api/v1/projects/${project.id}`)).status()).toBe(401);
  await api.dispose();
});
