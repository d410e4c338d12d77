//! Query parameters passed by callers (`flatResults`, `highlightingEnabled`, `chapterFilter`, ...):
//! validated before anything is sent, percent-encoded, and appended to a request's URL after the
//! helper's own parameter.

use crate::error::{Error, Result};
use crate::http::url::{encode_component, shorten};

/// One query parameter: a name and its value (an empty value is sent as `name=`).
pub type Param<'a> = (&'a str, &'a str);

/// Refuses what cannot be sent as asked: a parameter without a name. Names are not checked
/// against a list: every parameter of WHO's OpenAPI file, and any the API adds, can be passed.
pub fn validate(params: &[Param<'_>]) -> Result<()> {
    for (index, (name, value)) in params.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::invalid_argument(format!(
                "query parameter {index} has an empty name (its value is \"{}\"); nothing was sent",
                shorten(value, 60)
            )));
        }
    }
    Ok(())
}

/// `name=value&name=value`, each name and value percent-encoded: every byte outside RFC 3986's
/// unreserved set (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`, hex in upper case.
pub fn encode_query(params: &[Param<'_>]) -> String {
    let mut query = String::new();
    push_params(&mut query, params);
    query
}

fn push_params(out: &mut String, params: &[Param<'_>]) {
    for (index, (name, value)) in params.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(&encode_component(name));
        out.push('=');
        out.push_str(&encode_component(value));
    }
}

/// Appends the parameters to a URL that may already hold a query (`?` or `&` as needed).
pub fn append_to_url(url: &mut String, params: &[Param<'_>]) {
    if params.is_empty() {
        return;
    }
    match url.find('?') {
        None => url.push('?'),
        Some(at) if at + 1 == url.len() || url.ends_with('&') => {}
        Some(_) => url.push('&'),
    }
    push_params(url, params);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_outside_unreserved_is_encoded_in_upper_case() {
        assert_eq!(
            encode_query(&[("flatResults", "true"), ("chapter Filter", "01;02&x=é/+~._-"), ("empty", "")]),
            "flatResults=true&chapter%20Filter=01%3B02%26x%3D%C3%A9%2F%2B~._-&empty="
        );
    }

    #[test]
    fn appended_after_an_existing_query() {
        let mut url = "https://h/icd/x".to_owned();
        append_to_url(&mut url, &[("a", "1")]);
        assert_eq!(url, "https://h/icd/x?a=1");
        let mut url = "https://h/icd/x?q=1".to_owned();
        append_to_url(&mut url, &[("a", "1"), ("b", "2")]);
        assert_eq!(url, "https://h/icd/x?q=1&a=1&b=2");
        for ends in ["https://h/x?", "https://h/x?q=1&"] {
            let mut url = ends.to_owned();
            append_to_url(&mut url, &[("a", "")]);
            assert_eq!(url, format!("{ends}a="));
        }
        let mut url = "https://h/x".to_owned();
        append_to_url(&mut url, &[]);
        assert_eq!(url, "https://h/x");
    }

    #[test]
    fn empty_names_are_refused() {
        assert!(validate(&[("a", ""), ("", "x")]).unwrap_err().message().contains("parameter 1 has an empty name"));
        assert!(validate(&[("a", "")]).is_ok());
    }
}
