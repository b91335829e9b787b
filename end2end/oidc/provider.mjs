// A real OpenID Provider (panva's oidc-provider) for one tenant of the end-to-end tests.
// `node provider.mjs <port> <tenant> <flotilla base URL>` serves discovery, a login form that
// takes any password for the accounts below, consent, code flow with PKCE, RS256 ID tokens,
// and RP-initiated logout back to Flotilla. Acme's provider puts `groups` in the ID token;
// Globex's keeps oidc-provider's default and gives scope claims at the userinfo endpoint only,
// so Flotilla reads them there.
import Provider from "oidc-provider";

const [port, tenant, flotilla] = process.argv.slice(2);
if (!port || !tenant || !flotilla) {
  console.error("usage: node provider.mjs <port> <tenant> <flotilla base URL>");
  process.exit(2);
}

// Who exists at each tenant's provider, and their groups there.
const ACCOUNTS = {
  acme: {
    alice: ["acme-platform"],
    victor: ["acme-viewers"],
    nora: ["acme-interns"],
    eve: ["acme-editors"],
    wes: ["acme-ops"],
  },
  globex: { bob: ["globex-admins"] },
}[tenant] ?? {};

const oidc = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: "flotilla",
      client_secret: `${tenant}-client-secret`,
      redirect_uris: [`${flotilla}/t/${tenant}/callback`],
      post_logout_redirect_uris: [`${flotilla}/login?tenant=${tenant}`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email"],
    profile: ["name", "preferred_username"],
    groups: ["groups"],
  },
  // Acme: the scopes' claims in the ID token itself. Globex: only at userinfo (the default).
  conformIdTokenClaims: tenant !== "acme",
  cookies: { keys: [`${tenant}-cookie-key-for-tests-only`] },
  async findAccount(_ctx, id) {
    const groups = ACCOUNTS[id];
    if (!groups) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: `${tenant}|${id}`,
          email: `${id}@${tenant}.example`,
          name: id[0].toUpperCase() + id.slice(1),
          preferred_username: id,
          groups,
        };
      },
    };
  },
});

oidc.listen(Number(port), "127.0.0.1", () => {
  console.log(`OpenID Provider of ${tenant} at http://127.0.0.1:${port}`);
});
