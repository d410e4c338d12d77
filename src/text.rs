//! Text for messages: outside strings cut short, and secrets blanked out of them in every form
//! they may take on the way. Depends on nothing else of the crate, so that `error`, `http/` and
//! the rest may all use it.

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Cuts a caller's string for quoting in an error message.
pub fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `text` with every occurrence of each non-empty secret replaced by `[redacted]` — as it is,
/// and in each form it takes on the way to a server and back in an echo: percent-encoded (hex in
/// either case, any characters encoded or not: RFC 3986 or a form's encoding), a space as `+`
/// (a form's encoding), or escaped in a JSON string (`\/`, `\"`, `\\`, `\u00e9`). Always called
/// before a text is shortened, so that not even the start of a secret survives.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = redact_one(&text, secret.as_bytes());
    }
    text
}

fn redact_one(text: &str, secret: &[u8]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut at) = (0, 0);
    // A form of the secret starts with its first byte, or with an escape ('%', '\\', '+'):
    // other positions are passed over without a look (bodies quoted may be megabytes).
    let may_start = |b: u8| b == secret[0] || b == b'%' || b == b'\\' || (b == b'+' && secret[0] == b' ');
    while at < bytes.len() {
        if !may_start(bytes[at]) {
            at += 1;
            continue;
        }
        match encoded_match(bytes, at, secret) {
            // A match starts and ends on a character boundary: it decodes to the whole secret,
            // which is UTF-8, from ASCII escapes or whole characters.
            Some(end) if text.is_char_boundary(at) && text.is_char_boundary(end) => {
                out.push_str(&text[copied..at]);
                out.push_str(REDACTED);
                (copied, at) = (end, end);
            }
            _ => at += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Where a form of `secret` that starts at `start` ends (the longest one), if one does.
fn encoded_match(text: &[u8], start: usize, secret: &[u8]) -> Option<usize> {
    // (where in the text, how much of the secret is matched) pairs still alive: a character may
    // match in several ways ('%' as itself or "%25"), so every way is followed, each pair once.
    let mut alive = vec![(start, 0)];
    // Few pairs ever live at once (a character matches in one or two ways): a list will do.
    let mut seen = Vec::new();
    let mut longest = None;
    while let Some((at, matched)) = alive.pop() {
        if seen.contains(&(at, matched)) {
            continue;
        }
        seen.push((at, matched));
        if matched == secret.len() {
            longest = longest.max(Some(at));
            continue;
        }
        let wanted = secret[matched];
        let next = |offset: usize| text.get(at + offset).copied();
        if next(0) == Some(wanted) {
            alive.push((at + 1, matched + 1));
        }
        if next(0) == Some(b'+') && wanted == b' ' {
            alive.push((at + 1, matched + 1));
        }
        if next(0) == Some(b'%') {
            if let (Some(high), Some(low)) = (next(1).and_then(hex), next(2).and_then(hex)) {
                if high * 16 + low == wanted {
                    alive.push((at + 3, matched + 1));
                }
            }
        }
        if next(0) == Some(b'\\') {
            match next(1) {
                Some(escaped @ (b'/' | b'"' | b'\\')) if escaped == wanted => alive.push((at + 2, matched + 1)),
                Some(b'u') => {
                    // \uXXXX: one character, which may stand for several bytes of the secret.
                    let unit = text.get(at + 2..at + 6).and_then(|digits| {
                        digits.iter().try_fold(0u32, |value, &d| hex(d).map(|d| value * 16 + u32::from(d)))
                    });
                    if let Some(c) = unit.and_then(char::from_u32) {
                        let mut utf8 = [0; 4];
                        let encoded = c.encode_utf8(&mut utf8).as_bytes();
                        if secret[matched..].starts_with(encoded) {
                            alive.push((at + 6, matched + encoded.len()));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    longest
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_redacted_in_every_form() {
        let secret = "Pa55 +w/0rd=&%é!";
        for form in [
            secret,
            "Pa55+%2Bw%2F0rd%3D%26%25%C3%A9%21",   // a form's encoding
            "Pa55%20%2Bw%2F0rd%3D%26%25%C3%A9%21", // RFC 3986
            "Pa55%20%2bw%2f0rd%3d%26%25%c3%a9%21", // lower-case hex
            "Pa55 +w/0rd=&%25é!",                  // partly encoded
            "%50%61%35%35%20%2B%77%2F%30%72%64%3D%26%25%C3%A9%21", // every byte
            r"Pa55 +w\/0rd=&%\u00e9!",             // a JSON string's escapes
        ] {
            let text = format!("client_secret={form}&x=1");
            assert_eq!(redact(&text, &[secret]), "client_secret=[redacted]&x=1", "{form}");
        }
    }

    #[test]
    fn other_text_is_left_as_it_was() {
        assert_eq!(redact("a plain message, é", &["secret", ""]), "a plain message, é");
        assert_eq!(redact("tokens abcd and abcd", &["abcd"]), "tokens [redacted] and [redacted]");
        assert_eq!(redact("half a secr", &["secret"]), "half a secr");
        // '+' stands for a space, not the other way round.
        assert_eq!(redact("a b", &["a+b"]), "a b");
        assert_eq!(redact("%zz%2", &["%zz%2"]), "[redacted]");
    }

    #[test]
    fn a_large_text_is_redacted_quickly() {
        let mut text = "x".repeat(8 << 20);
        text.push_str("Pa55+%2Bw");
        let started = std::time::Instant::now();
        assert!(redact(&text, &["Pa55 +w"]).ends_with("x[redacted]"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn shorten_cuts_at_characters() {
        assert_eq!(shorten("éééé", 2), "éé…");
        assert_eq!(shorten("ab", 2), "ab");
    }
}
