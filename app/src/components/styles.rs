//! Tailwind classes shared by forms across pages.

/// A text input.
pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm \
    focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40";

/// The main action of a form or page.
pub const BUTTON_PRIMARY: &str = "rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm \
    hover:bg-sky-800 disabled:cursor-wait disabled:opacity-60 focus-visible:outline focus-visible:outline-2 \
    focus-visible:outline-offset-2 focus-visible:outline-sky-600";

/// A secondary action.
pub const BUTTON_SECONDARY: &str = "rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium \
    text-slate-700 shadow-sm hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 \
    focus-visible:outline-offset-2 focus-visible:outline-sky-600";

/// A button that starts removing something (it opens a review; the red button is after it).
pub const DANGER_SECONDARY: &str = "rounded-md border border-red-300 bg-white px-4 py-2 text-sm font-medium text-red-700 \
                                    shadow-sm hover:bg-red-50 focus-visible:outline focus-visible:outline-2 \
                                    focus-visible:outline-red-600";
