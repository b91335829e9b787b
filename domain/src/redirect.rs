//! Where to send the browser after logging in: the `next` parameter, trusted only as a path
//! on this site. Browsers are lenient with what follows a redirect — they drop tabs and
//! newlines and read `\` as `/` — so `/\t/evil.example` or `/\evil.example` would leave the
//! site as `//evil.example`; and a newline would break the `Location` header itself. Only a
//! plain path (and query and fragment) of URL characters passes.

/// The longest `next` kept (longer ones send the browser to `/`).
pub const MAX_NEXT: usize = 2048;

/// `next` if it is a path on this site that a browser reads the same way, else `None`.
pub fn local_path(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    if bytes.len() > MAX_NEXT || bytes.first() != Some(&b'/') || matches!(bytes.get(1), Some(b'/' | b'\\')) {
        return None;
    }
    // RFC 3986's unreserved and reserved characters and `%` escapes: no controls, spaces,
    // backslashes, quotes or anything beyond ASCII.
    let url_char = |c: &u8| c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?#%[]".contains(c);
    bytes.iter().all(url_char).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_this_site_pass_as_they_are() {
        for ok in ["/", "/workspaces?x=1", "/projects/abc#matrix", "/a%20b", "/%2F%2Fstays-a-path"] {
            assert_eq!(local_path(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn anything_a_browser_could_read_as_another_site_or_that_breaks_the_header_is_refused() {
        let long = format!("/{}", "a".repeat(MAX_NEXT));
        for bad in [
            "",
            "evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/ /evil",
            "https://evil.example",
            "/\u{0}",
            "/é",
            "\\\\evil",
            long.as_str(),
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
