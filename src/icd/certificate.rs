//! Death certificates: the underlying cause of death (DORIS) and the certificate check (CoDEdit).
//!
//! WHO's API takes a certificate as 40 query parameters and silently ignores a name it does not
//! know — a misspelled `causeOfDeathCodeA1` gives a wrong underlying cause with no error. So the
//! fields are checked here, against the one list below, before anything is sent.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::http::url::{encode_component, shorten};
use crate::icd::params::Param;
use crate::{Client, Reply};

/// The certificate fields: the query parameters of `GET /icd/release/11/{releaseId}/doris` (and
/// `/codedit`, which takes the same) in WHO's OpenAPI file v2.6.0, in its order and spelling —
/// WHO's own "PlaceOfOccurance" included. `tests/ffi_certificates.rs` checks this list against
/// the file (a copy in `tests/fixtures/openapi/`).
pub const CERTIFICATE_FIELDS: [&str; 40] = [
    "sex",
    "estimatedAge",
    "dateBirth",
    "dateDeath",
    "causeOfDeathCodeA",
    "causeOfDeathCodeB",
    "causeOfDeathCodeC",
    "causeOfDeathCodeD",
    "causeOfDeathCodeE",
    "causeOfDeathUriA",
    "causeOfDeathUriB",
    "causeOfDeathUriC",
    "causeOfDeathUriD",
    "causeOfDeathUriE",
    "causeOfDeathCodePart2",
    "causeOfDeathUriPart2",
    "intervalA",
    "intervalB",
    "intervalC",
    "intervalD",
    "intervalE",
    "surgeryWasPerformed",
    "surgeryDate",
    "surgeryReason",
    "autopsyWasRequested",
    "autopsyFindings",
    "mannerOfDeath",
    "mannerOfDeathDateOfExternalCauseOrPoisoning",
    "mannerOfDeathDescriptionExternalCause",
    "mannerOfDeathPlaceOfOccuranceExternalCause",
    "fetalOrInfantDeathMultiplePregnancy",
    "fetalOrInfantDeathStillborn",
    "fetalOrInfantDeathDeathWithin24h",
    "fetalOrInfantDeathBirthWeight",
    "fetalOrInfantDeathPregnancyWeeks",
    "fetalOrInfantDeathAgeMother",
    "fetalOrInfantDeathPerinatalDescription",
    "maternalDeathWasPregnant",
    "maternalDeathTimeFromPregnancy",
    "maternalDeathPregnancyContribute",
];

/// Whether a field holds a cause of death (Part 1 lines A to E, or Part 2), by code or by URI.
pub fn is_cause_field(name: &str) -> bool {
    name.starts_with("causeOfDeathCode") || name.starts_with("causeOfDeathUri")
}

/// The known field closest to `name`: the smallest edit distance, letter case ignored (so that
/// "Sex" and "causeofdeathcodea" find theirs); the list's order breaks ties.
pub fn closest_field(name: &str) -> &'static str {
    let wanted = name.to_lowercase();
    CERTIFICATE_FIELDS
        .iter()
        .min_by_key(|field| strsim::levenshtein(&wanted, &field.to_lowercase()))
        .copied()
        .expect("the list of fields is not empty")
}

/// Refuses a certificate the API would misread: an empty or unknown field name (naming the
/// closest known field), a field given twice, or no cause of death at all (no non-blank
/// causeOfDeathCode* / causeOfDeathUri* field). Values are not judged: the API does that.
pub fn check(certificate: &[Param<'_>]) -> Result<()> {
    let mut seen = HashSet::new();
    for (index, (name, _)) in certificate.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::invalid_argument(format!(
                "certificate: field {index} has an empty name; nothing was sent"
            )));
        }
        if !CERTIFICATE_FIELDS.contains(name) {
            return Err(Error::invalid_argument(format!(
                "certificate: \"{}\" is not a death certificate field: did you mean {}? (the fields are \
                 those of WHO's API, e.g. sex, causeOfDeathCodeA..E, causeOfDeathCodePart2, intervalA..E); \
                 nothing was sent",
                shorten(name, 60),
                closest_field(name)
            )));
        }
        if !seen.insert(*name) {
            return Err(Error::invalid_argument(format!(
                "certificate: field {name} is given twice (give each field once; several codes of one line \
                 go in one value, comma-separated); nothing was sent"
            )));
        }
    }
    if !certificate.iter().any(|(name, value)| is_cause_field(name) && !value.trim().is_empty()) {
        return Err(Error::invalid_argument(
            "certificate: no cause of death is given: fill at least one of causeOfDeathCodeA..E, \
             causeOfDeathUriA..E, causeOfDeathCodePart2 or causeOfDeathUriPart2; nothing was sent",
        ));
    }
    Ok(())
}

impl Client {
    /// The underlying cause of death of a certificate: `GET /icd/release/11/{release}/doris`
    /// with the certificate's fields as the query, checked first (see [`check`]). A certificate
    /// DORIS rejects (`"reject": true`) is an answer like any other.
    pub fn doris(&self, certificate: &[Param<'_>]) -> Result<Reply> {
        self.certificate_get("doris", certificate)
    }

    /// The check of a certificate: `GET /icd/release/11/{release}/codedit`, checked first.
    pub fn codedit(&self, certificate: &[Param<'_>]) -> Result<Reply> {
        self.certificate_get("codedit", certificate)
    }

    fn certificate_get(&self, endpoint: &str, certificate: &[Param<'_>]) -> Result<Reply> {
        check(certificate)?;
        // `release=latest` resolved as for every helper, and named in an HTTP error.
        let asked = self.snapshot();
        let used = self.release_resolved(&asked)?;
        let path = format!("/icd/release/11/{}/{endpoint}", encode_component(&used.config.release));
        self.get_with(&path, certificate)
            .map_err(|error| crate::icd::latest::name_resolved_release(&asked.config, &used.config, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_fields() {
        assert_eq!(closest_field("causeOfDeathCodeA1"), "causeOfDeathCodeA");
        assert_eq!(closest_field("Sex"), "sex");
        assert_eq!(closest_field("causeOfDeathUriPart"), "causeOfDeathUriPart2");
        assert_eq!(
            closest_field("mannerOfDeathPlaceOfOccurrenceExternalCause"),
            "mannerOfDeathPlaceOfOccuranceExternalCause"
        );
    }

    #[test]
    fn checks() {
        assert!(check(&[("causeOfDeathCodeA", "1A00"), ("sex", "1")]).is_ok());
        assert!(check(&[("causeOfDeathUriPart2", "http://id.who.int/icd/release/11/mms/1")]).is_ok());
        let message = |c: &[Param<'_>]| check(c).unwrap_err().message().to_owned();
        assert!(message(&[("causeOfDeathCodeA1", "1A00")]).contains("did you mean causeOfDeathCodeA?"));
        assert!(message(&[("causeOfDeathCodeA", "1A00"), ("causeOfDeathCodeA", "1A01")]).contains("twice"));
        assert!(message(&[("sex", "1")]).contains("no cause of death"));
        assert!(message(&[("causeOfDeathCodeA", " ")]).contains("no cause of death"));
        assert!(message(&[("", "1")]).contains("empty name"));
        assert!(message(&[]).contains("no cause of death"));
    }
}
