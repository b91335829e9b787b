use leptos::prelude::*;
use leptos_meta::Title;

/// Any path no route matches; answers 404 on the server.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="flex min-h-full flex-col items-center justify-center gap-3 px-4 py-24 text-center">
            <p class="text-sm font-semibold text-sky-700">"404"</p>
            <h1 class="text-2xl font-semibold">"This page does not exist"</h1>
            <a href="/" class="text-sm font-medium text-sky-700 underline hover:text-sky-900">
                "Back to the fleet"
            </a>
        </main>
    }
}
