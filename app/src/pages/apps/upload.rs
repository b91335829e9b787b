//! Adding an app version of the tenant's own: an archive of the catalog's layout, read in the
//! browser and sent to the server, which checks all of it (the browser only checks the size).

use leptos::prelude::*;

use super::server_fns::upload_app_version;
use crate::components::ErrorAlert;
use crate::components::styles::{BUTTON_PRIMARY, BUTTON_SECONDARY};
use flotilla_domain::limits::{MAX_APP_ARCHIVE_BYTES, size_text};

#[component]
pub(super) fn AddVersion(added: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(false);
    // The chosen file's bytes, base64-encoded as the server function takes them.
    let chosen = RwSignal::new(None::<String>);
    let read_error = RwSignal::new(None::<String>);
    let upload = Action::new(move |archive: &String| {
        let archive = archive.clone();
        async move { upload_app_version(archive).await }
    });
    let done = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(name)) = upload.value().get() {
            upload.value().set(None);
            chosen.set(None);
            open.set(false);
            done.set(Some(name));
            added.run(());
        }
    });
    let error = move || read_error.get().or_else(|| upload.value().get().and_then(Result::err).map(|e| e.to_string()));
    let submit = move |_| {
        if let Some(c) = chosen.get_untracked() {
            done.set(None);
            upload.dispatch(c);
        }
    };
    view! {
        <div class="mt-4">
            <Show when=move || !open.get()>
                <button type="button" class=BUTTON_SECONDARY data-testid="add-version"
                    on:click=move |_| { done.set(None); open.set(true); }>
                    "Add an app version…"
                </button>
            </Show>
            {move || done.get().map(|name| view! {
                <p role="status" class="mt-2 text-sm text-emerald-800" data-testid="version-added">
                    {format!("Added {name}. Only your organisation sees it.")}
                </p>
            })}
            <Show when=move || open.get()>
                <section class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="add-version-title">
                    <h2 id="add-version-title" class="text-lg font-semibold">"Add an app version"</h2>
                    <p class="mt-1 max-w-3xl text-sm text-slate-600">
                        "Upload a .tar.gz of one version directory, laid out like Flotilla's own catalog: "
                        <code>"app.yaml"</code>" (name, version, parameters), "<code>"templates/*.yaml"</code>
                        " (MiniJinja templates) and an optional "<code>"README.md"</code>". For example "
                        <code>"tar czf podinfo-6.7.2.tgz -C catalog/podinfo 6.7.2"</code>
                        ". A new version of an app you already have appears as an upgrade for its installs."
                    </p>
                    <label class="mt-4 block text-sm font-medium text-slate-700" for="app-archive">"Archive"</label>
                    <input id="app-archive" type="file" data-testid="app-archive"
                        accept=".tgz,.tar.gz,.tar,application/gzip,application/x-tar"
                        class="mt-1 block text-sm"
                        on:change=move |ev| read_file(ev, chosen, read_error) />
                    <p class="mt-1 text-xs text-slate-500">{format!("At most {}.", size_text(MAX_APP_ARCHIVE_BYTES))}</p>
                    {move || error().map(|message| view! { <div class="mt-3"><ErrorAlert message /></div> })}
                    <div class="mt-4 flex gap-2">
                        <button type="button" class=BUTTON_PRIMARY data-testid="upload-version"
                            disabled=move || chosen.with(Option::is_none) || upload.pending().get()
                            on:click=submit>
                            {move || if upload.pending().get() { "Checking…" } else { "Add version" }}
                        </button>
                        <button type="button" class=BUTTON_SECONDARY
                            on:click=move |_| { open.set(false); chosen.set(None); read_error.set(None); upload.value().set(None); }>
                            "Cancel"
                        </button>
                    </div>
                </section>
            </Show>
        </div>
    }
}

/// Reads the chosen file into `chosen`, or says why not in `error`.
#[allow(unused_variables)]
fn read_file(ev: leptos::ev::Event, chosen: RwSignal<Option<String>>, error: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    {
        use base64::Engine as _;
        chosen.set(None);
        error.set(None);
        let Some(file) = crate::components::chosen_file(&ev) else { return };
        let name = file.name();
        if file.size() > MAX_APP_ARCHIVE_BYTES as f64 {
            error.set(Some(format!(
                "{name} is larger than the {} an app archive may be.",
                size_text(MAX_APP_ARCHIVE_BYTES)
            )));
            return;
        }
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => {
                    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                    chosen.set(Some(base64::engine::general_purpose::STANDARD.encode(bytes)));
                }
                Err(_) => error.set(Some(format!("{name} could not be read."))),
            }
        });
    }
}
