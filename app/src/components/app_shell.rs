use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

use crate::auth::{Logout, SessionUser, current_user};
use crate::components::Logo;

/// The signed-in user, loaded once by [`AppShell`] for the pages inside it.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<SessionUser>, crate::AppError>>);

/// Shows `children` only to users whose roles pass `allows` (e.g. `Access::is_tenant_admin`).
/// The server refuses what they may not do anyway; this spares them buttons that would fail.
#[component]
pub fn Allowed(allows: fn(&flotilla_domain::Access) -> bool, children: ChildrenFn) -> impl IntoView {
    let user = use_context::<CurrentUser>();
    let allowed =
        move || user.and_then(|u| u.0.get()).and_then(Result::ok).flatten().is_some_and(|u| allows(&u.access));
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            <Show when=allowed>{move || children.with_value(|c| c())}</Show>
        </Suspense>
    }
}

/// The frame of every signed-in page: top bar with navigation and the user menu. Sends the
/// browser to the login page when the session has ended.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    provide_context(CurrentUser(user));
    view! {
        <div class="min-h-full">
            <header class="bg-slate-900 text-slate-100">
                <div class="mx-auto flex h-14 max-w-7xl items-center gap-6 px-4">
                    <a href="/" class="flex items-center gap-2 font-semibold tracking-tight text-white">
                        <Logo class="h-6 w-6 text-sky-400" />
                        "Flotilla"
                    </a>
                    <nav aria-label="Main" class="flex flex-1 gap-1 text-sm">
                        <A
                            href="/"
                            exact=true
                            attr:class=NAV_LINK
                        >
                            "Fleet"
                        </A>
                        <A
                            href="/workspaces"
                            attr:class=NAV_LINK
                        >
                            "Workspaces"
                        </A>
                        <A href="/types" attr:class=NAV_LINK>"Types"</A>
                        <A href="/apps" attr:class=NAV_LINK>"Apps"</A>
                        <A href="/rollouts" attr:class=NAV_LINK>"Rollouts"</A>
                        <Allowed allows=flotilla_domain::Access::is_tenant_admin>
                            <A href="/people" attr:class=NAV_LINK>"People"</A>
                        </Allowed>
                        <Allowed allows=flotilla_domain::Access::is_tenant_admin>
                            <A href="/audit" attr:class=NAV_LINK>"Audit log"</A>
                        </Allowed>
                        <Allowed allows=|a| a.is_platform_admin()>
                            <A href="/tenants" attr:class=NAV_LINK>"Tenants"</A>
                        </Allowed>
                    </nav>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match user.await {
                                Ok(Some(u)) => view! { <UserMenu user=u /> }.into_any(),
                                Ok(None) | Err(crate::AppError::Unauthenticated) => {
                                    view! { <Redirect path="/login" /> }.into_any()
                                }
                                Err(e) => view! { <span class="text-sm text-red-300">{e.to_string()}</span> }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
            </header>
            <main class="mx-auto max-w-7xl px-4 py-8">{children()}</main>
        </div>
    }
}

#[component]
fn UserMenu(user: SessionUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="flex items-center gap-3 text-sm">
            <a href="/account" title="Your account" data-testid="current-user" class="text-slate-300 hover:text-white">
                <span class="font-medium text-white">{user.display_name}</span>
                " (" {user.username} " · " {user.tenant} ")"
            </a>
            <ActionForm action=logout>
                <button
                    type="submit"
                    class="rounded border border-slate-600 px-3 py-1 text-slate-200 hover:bg-slate-800 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-400"
                >
                    "Log out"
                </button>
            </ActionForm>
        </div>
    }
}

/// A link of the main navigation (the current page's is highlighted).
const NAV_LINK: &str = "rounded px-3 py-1.5 text-slate-300 hover:bg-slate-800 hover:text-white \
    aria-[current=page]:bg-slate-800 aria-[current=page]:text-white focus-visible:outline focus-visible:outline-2 \
    focus-visible:outline-sky-400";
