use crate::helpers::{ADMIN_PASSWORD, session_cookie, spawn_app};

#[tokio::test]
async fn pages_redirect_to_login_keeping_the_wanted_path() {
    let app = spawn_app().await;
    let client = app.client();
    let root = client.get(app.url("/")).send().await.unwrap();
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "/login");

    let deep = client.get(app.url("/workspaces/a?tab=x")).send().await.unwrap();
    assert_eq!(deep.headers()["location"], "/login?next=/workspaces/a%3Ftab%3Dx");

    let login = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("name=\"password\""), "login form rendered");
    assert!(html.contains("/pkg/flotilla.js"), "hydration script referenced");
    assert!(html.contains("/pkg/flotilla.wasm"), "the wasm file cargo-leptos writes is the one loaded");
}

#[tokio::test]
async fn wrong_password_is_refused_with_401_and_no_session() {
    let app = spawn_app().await;
    let client = app.client();
    let response = app.login(&client, "admin", "wrong").await;
    assert_eq!(response.status(), 401);
    let body = response.text().await.unwrap();
    assert!(body.contains("InvalidCredentials"), "{body}");
    let page = client.get(app.url("/")).send().await.unwrap();
    assert!(page.status().is_redirection(), "still logged out");
}

#[tokio::test]
async fn invalid_input_names_the_field() {
    let app = spawn_app().await;
    let response = app.login(&app.client(), "", "x").await;
    assert_eq!(response.status(), 422);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["Invalid"]["field"], "username");
    assert_eq!(error["Invalid"]["message"], "enter a username");
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_ends_it() {
    let app = spawn_app().await;
    let client = app.client();

    // A session exists before login (a failed attempt touches it)...
    let before = app.login(&client, "admin", "wrong").await;
    let before_cookie = session_cookie(&before);

    let response = app.login(&client, "admin", ADMIN_PASSWORD).await;
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let cookie = session_cookie(&response).expect("login sets the session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http by default: {cookie}");
    if let Some(before) = before_cookie {
        assert_ne!(before.split(';').next(), cookie.split(';').next(), "session id rotated at login");
    }

    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Fleet"));

    let me: serde_json::Value = app.call(&client, "/api/auth/me", &[]).await.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["tenant"], "default");
    assert_eq!(me["roles"], serde_json::json!(["platform_admin", "tenant_admin"]));

    let logout = app.call(&client, "/api/auth/logout", &[]).await;
    assert!(logout.status().is_success() || logout.status().is_redirection(), "{}", logout.status());
    let page = client.get(app.url("/")).send().await.unwrap();
    assert!(page.status().is_redirection(), "logged out");

    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    let actions: Vec<String> =
        app.store.audit_log(&tenant.id, 10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions[..3], ["logout", "login", "login_failed"]);
}

#[tokio::test]
async fn a_forged_or_stale_cookie_is_not_a_login() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page =
        client.get(app.url("/")).header("Cookie", "flotilla_session=AAAAAAAAAAAAAAAAAAAAAA").send().await.unwrap();
    assert!(page.status().is_redirection());
}

#[tokio::test]
async fn unknown_pages_are_404_for_logged_in_users() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let page = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("This page does not exist"));
}

#[tokio::test]
async fn state_changing_requests_from_another_site_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    let ours = app.url("");
    let ours = ours.trim_end_matches('/');
    let create = |name: &'static str, headers: Vec<(&'static str, String)>| {
        let mut request = client
            .post(app.url("/api/workspaces/create"))
            .header("Accept", "application/json")
            .form(&[("name", name), ("selector", "")]);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(create("forged", vec![("Origin", "https://evil.example".into())]).await, 403);
    assert_eq!(create("forged", vec![("Sec-Fetch-Site", "cross-site".into())]).await, 403);
    assert_eq!(create("forged", vec![("Origin", "null".into())]).await, 403);
    // A forged logout does not end the session either.
    let logout =
        client.post(app.url("/api/auth/logout")).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(logout.status(), 403);

    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap();
    assert!(app.store.list_workspaces(&tenant.id).await.unwrap().is_empty(), "nothing written");
    // Our own pages' requests, and reads from anywhere, go through.
    let same = vec![("Origin", ours.to_owned()), ("Sec-Fetch-Site", "same-origin".into())];
    assert_eq!(create("ours", same).await, 200);
    let read = client.get(app.url("/healthz")).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(read.status(), 200);
}

#[tokio::test]
async fn a_server_function_with_a_missing_or_malformed_argument_answers_400_saying_what_is_wrong() {
    let app = spawn_app().await;
    let client = app.client();
    app.login(&client, "admin", ADMIN_PASSWORD).await;
    for (endpoint, form, says) in [
        ("/api/projects/view", vec![], "missing field `id`"),
        ("/api/workspaces/set-selector", vec![("id", "x"), ("version", "seven"), ("selector", "")], "invalid digit"),
    ] {
        let answer = app.call(&client, endpoint, &form).await;
        assert_eq!(answer.status(), 400, "{endpoint}");
        let body: serde_json::Value = answer.json().await.unwrap();
        let message = body["BadRequest"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{endpoint}: {body}");
    }
    // A well-formed call of an unknown id is still a 404, and a refusal still names its field.
    assert_eq!(app.call(&client, "/api/projects/view", &[("id", "nope")]).await.status(), 404);
    let bad = app.call(&client, "/api/workspaces/create", &[("name", "Bad Name"), ("selector", "")]).await;
    assert_eq!(bad.status(), 422);
}

/// #16 point 10: after logging in the browser goes to `next` only when it is a path on this
/// site that a browser reads the same way; anything else (tab, newline, backslash, `//`)
/// goes to `/`, and nothing panics.
#[tokio::test]
async fn the_next_address_after_login_stays_on_this_site() {
    let app = spawn_app().await;
    for (next, expected) in [
        ("/workspaces?tab=x", "/workspaces?tab=x"),
        ("/\t/evil.example", "/"),
        ("/%09/evil.example", "/%09/evil.example"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\r\nSet-Cookie: stolen=1", "/"),
        ("/\n/evil.example", "/"),
        ("https://evil.example/", "/"),
    ] {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form =
            [("tenant", ""), ("username", "admin"), ("password", crate::helpers::ADMIN_PASSWORD), ("next", next)];
        // A plain form post (no JavaScript), as the login page sends it before hydration.
        let response =
            client.post(app.url("/api/auth/login")).header("Accept", "text/html").form(&form).send().await.unwrap();
        assert!(response.status().is_redirection(), "{next:?}: {}", response.status());
        assert_eq!(response.headers()["location"], expected, "{next:?}");
    }
}

/// #16 point 14: every answer says no sniffing, no framing, no referrer beyond this site; a
/// page's scripts run only with its own nonce (the hydration scripts carry it), and HSTS is
/// sent when the site is served over HTTPS.
#[tokio::test]
async fn responses_carry_a_content_security_policy_and_the_safety_headers() {
    let app = spawn_app().await;
    let page = app.client().get(app.url("/login")).send().await.unwrap();
    let headers = page.headers().clone();
    let policy = headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("'wasm-unsafe-eval'"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration scripts carry the page's nonce");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(!headers.contains_key("strict-transport-security"), "plain http: no HSTS");
    // Another page load, another nonce.
    let again = app.client().get(app.url("/login")).send().await.unwrap();
    assert_ne!(again.headers()["content-security-policy"].to_str().unwrap(), policy);

    let api = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(api.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");

    let https = crate::helpers::spawn_app_with(|args| args.secure_cookies = Some(true)).await;
    let answer = https.client().get(https.url("/healthz")).send().await.unwrap();
    assert_eq!(answer.headers()["strict-transport-security"], "max-age=31536000");
}

/// #16 points 8 and 11: password guessing is slowed, then locked, per account (and per client
/// address); a refused attempt is answered at once, with when to try again, and neither
/// hashes a password nor writes to the audit log — not even with the right password.
#[tokio::test]
async fn failed_logins_are_slowed_then_locked_and_a_refused_attempt_writes_nothing() {
    let app = spawn_app().await;
    let client = app.client();
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    for _ in 0..3 {
        assert_eq!(app.login(&client, "admin", "wrong-guess").await.status(), 401);
    }
    let audited = app.store.audit_log(&tenant, 1000).await.unwrap().len();
    let slowed = app.login(&client, "admin", "wrong-guess").await;
    assert_eq!(slowed.status(), 429);
    let body: serde_json::Value = slowed.json().await.unwrap();
    assert!(body["TooManyRequests"].as_str().unwrap().contains("wait 1 second"), "{body}");
    // The right password waits its turn too, and the refusals left no trace to fill the log.
    assert_eq!(app.login(&client, "admin", ADMIN_PASSWORD).await.status(), 429);
    assert_eq!(app.store.audit_log(&tenant, 1000).await.unwrap().len(), audited);
    // Another account is not slowed by this one's failures.
    let other = app.login(&client, "nobody-here", "x").await;
    assert_eq!(other.status(), 401);
    // After the wait, the right password logs in (and clears the count).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(app.login(&client, "admin", ADMIN_PASSWORD).await.status().is_success());
}

/// #16 point 8: a local account changes its password; the current one must be given, the new
/// one must pass the rule, and every other session of the account ends.
#[tokio::test]
async fn a_password_is_changed_with_the_current_one_and_other_sessions_end() {
    let app = spawn_app().await;
    let (here, elsewhere) = (app.client(), app.client());
    app.login(&here, "admin", ADMIN_PASSWORD).await;
    app.login(&elsewhere, "admin", ADMIN_PASSWORD).await;
    let change = |current: &'static str, new: &'static str| {
        let client = here.clone();
        let app = &app;
        async move {
            app.call(&client, "/api/auth/change-password", &[("current_password", current), ("new_password", new)])
                .await
        }
    };
    let wrong = crate::helpers::refused(change("not-my-password", "a brand new passphrase").await, 422).await;
    assert_eq!(wrong["Invalid"]["field"], "current_password", "{wrong}");
    let weak = crate::helpers::refused(change(ADMIN_PASSWORD, "short").await, 422).await;
    assert_eq!(weak["Invalid"]["field"], "new_password", "{weak}");
    crate::helpers::ok(change(ADMIN_PASSWORD, "a brand new passphrase").await).await;

    assert_eq!(app.call(&here, "/api/auth/me", &[]).await.status(), 200, "this session stays");
    let me: serde_json::Value = app.call(&elsewhere, "/api/auth/me", &[]).await.json().await.unwrap();
    assert_eq!(me, serde_json::Value::Null, "the other session ended");
    assert_eq!(app.login(&app.client(), "admin", ADMIN_PASSWORD).await.status(), 401);
    assert!(app.login(&app.client(), "admin", "a brand new passphrase").await.status().is_success());
    let tenant = app.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let log = app.store.audit_log(&tenant, 20).await.unwrap();
    assert!(log.iter().any(|r| r.action == "user.password_changed"));
}
