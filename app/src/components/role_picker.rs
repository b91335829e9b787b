use leptos::prelude::*;

use crate::AppError;
use crate::components::FieldError;
use crate::components::styles::INPUT;
use crate::model::{Role, ScopeChoice};

/// A role (any but platform admin) and what it applies to: the tenant, or one of `scopes`
/// chosen by the role's kind. Sends `role` and `scope_id`; the ids are `<prefix>-role` and
/// `<prefix>-scope`.
#[component]
pub fn RolePicker(
    prefix: &'static str,
    scopes: Vec<ScopeChoice>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let role = RwSignal::new(Role::TenantAdmin);
    let scopes = StoredValue::new(scopes);
    let (role_id, scope_id) = (format!("{prefix}-role"), format!("{prefix}-scope"));
    let choices = move || {
        let wanted = match role.get().scope() {
            flotilla_domain::RoleScope::Workspace => Some(false),
            flotilla_domain::RoleScope::Project => Some(true),
            _ => None,
        };
        scopes.with_value(|all| wanted.map(|p| all.iter().filter(|s| s.is_project == p).cloned().collect::<Vec<_>>()))
    };
    let role_field = role_id.clone();
    let scope_label = scope_id.clone();
    view! {
        <div>
            <label for=role_field class="block text-sm font-medium text-slate-700">"Role"</label>
            <select id=role_id name="role" class=INPUT
                on:change=move |ev| if let Ok(r) = event_target_value(&ev).parse() { role.set(r) }>
                {Role::ALL.into_iter().filter(|r| *r != Role::PlatformAdmin).map(|r| view! {
                    <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option>
                }).collect_view()}
            </select>
            <FieldError error field="role" />
        </div>
        <div>
            <label for=scope_label class="block text-sm font-medium text-slate-700">"On"</label>
            {move || {
                let id = scope_id.clone();
                match choices() {
                    None => view! {
                        <input type="hidden" name="scope_id" value="" />
                        <p id=id class="mt-2 text-sm text-slate-600">"the whole tenant"</p>
                    }.into_any(),
                    Some(list) if list.is_empty() => view! {
                        <input type="hidden" name="scope_id" value="" />
                        <p id=id class="mt-2 text-sm text-slate-600">"Nothing to choose yet: create one first."</p>
                    }.into_any(),
                    Some(list) => view! {
                        <select id=id name="scope_id" class=INPUT>
                            {list.into_iter().map(|s| view! { <option value=s.id>{s.label}</option> }).collect_view()}
                        </select>
                    }.into_any(),
                }
            }}
            <FieldError error field="scope" />
        </div>
    }
}
