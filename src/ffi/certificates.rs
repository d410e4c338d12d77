//! Death certificates: the underlying cause of death (DORIS) and the certificate check (CoDEdit).

use std::ffi::{c_char, CString};
use std::ptr;
use std::sync::OnceLock;

use super::requests::into_c_string;
use super::{boundary, client_arg, last_error, pairs_arg, IcdClient, IcdStatus};
use crate::error::{Error, Result};
use crate::icd::certificate;
use crate::icd::params::Param;
use crate::{Client, Reply};

/// Borrows a certificate array and checks its fields (see icd_doris).
unsafe fn certificate_arg<'a>(array: *const *const c_char) -> Result<Vec<(&'a str, &'a str)>> {
    if array.is_null() {
        return Err(Error::invalid_argument(
            "certificate is NULL: give the fields as name, value, ..., NULL, with at least one cause of death; \
             nothing was sent",
        ));
    }
    let fields = pairs_arg(array, "certificate", "field")?;
    certificate::check(&fields)?;
    Ok(fields)
}

unsafe fn certificate_request(
    client: *mut IcdClient,
    array: *const *const c_char,
    call: impl FnOnce(&Client, &[Param<'_>]) -> Result<Reply>,
) -> *mut c_char {
    boundary(ptr::null_mut(), || {
        let client = client_arg(client)?;
        into_c_string(call(client, &certificate_arg(array)?)?)
    })
}

/// The underlying cause of death of a death certificate, by WHO's DORIS rules:
/// GET /icd/release/11/{release}/doris?{fields}, in the client's release and language.
///
/// `certificate`: name, value, name, value, ..., NULL — an array of C strings ended by a NULL
/// name, like the params of icd_get_with, borrowed for the call only; each name and value is
/// percent-encoded. The names are the certificate fields of WHO's API (the query parameters of
/// /doris in its OpenAPI file v2.6.0), exactly as spelled there: sex, estimatedAge, dateBirth,
/// dateDeath, causeOfDeathCodeA..E, causeOfDeathUriA..E, causeOfDeathCodePart2,
/// causeOfDeathUriPart2, intervalA..E, surgeryWasPerformed, surgeryDate, surgeryReason,
/// autopsyWasRequested, autopsyFindings, mannerOfDeath,
/// mannerOfDeathDateOfExternalCauseOrPoisoning, mannerOfDeathDescriptionExternalCause,
/// mannerOfDeathPlaceOfOccuranceExternalCause (WHO's spelling), fetalOrInfantDeathMultiplePregnancy,
/// fetalOrInfantDeathStillborn, fetalOrInfantDeathDeathWithin24h, fetalOrInfantDeathBirthWeight,
/// fetalOrInfantDeathPregnancyWeeks, fetalOrInfantDeathAgeMother,
/// fetalOrInfantDeathPerinatalDescription, maternalDeathWasPregnant,
/// maternalDeathTimeFromPregnancy, maternalDeathPregnancyContribute. Several codes of one line go
/// in one value, comma-separated ("1A00,1A01"); values are not judged here (the API does).
///
/// The fields are checked before anything is sent, because the API silently ignores a name it
/// does not know: ICD_ERR_INVALID_ARGUMENT, and nothing sent, for a NULL certificate, an unknown
/// name (the message names the closest field: "causeOfDeathCodeA1" -> "did you mean
/// causeOfDeathCodeA?"), an empty name, a field given twice, a missing value (a NULL where a value
/// should be), invalid UTF-8, or a certificate without any cause of death (no non-blank
/// causeOfDeathCode* or causeOfDeathUri* field).
///
/// Returns the API's answer as it came — stemCode, stemURI, code, uri, report, tabularReport,
/// reject, error, warning — a string the caller frees with icd_free_string. A certificate DORIS
/// rejects ("reject": true, "error" saying why) is a result, not a failure: the call succeeds.
/// NULL and the last error only as icd_get fails (ICD_ERR_HTTP for a non-2xx answer, e.g. 400 for
/// a value the API cannot read; ICD_ERR_PARSE for a body that is not JSON; ...). Answers are
/// cached like any GET. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_doris(client: *mut IcdClient, certificate: *const *const c_char) -> *mut c_char {
    certificate_request(client, certificate, Client::doris)
}

/// The check of a death certificate (WHO's CoDEdit, integrated in DORIS):
/// GET /icd/release/11/{release}/codedit?{fields}. `certificate` and its checks as for
/// icd_doris (the same 40 fields; nothing is sent for a certificate that fails them). Returns the
/// API's answer as it came — report, tabularReport, issueIds — which the caller frees with
/// icd_free_string, or NULL and the last error as icd_doris. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_codedit(client: *mut IcdClient, certificate: *const *const c_char) -> *mut c_char {
    certificate_request(client, certificate, Client::codedit)
}

/// Checks a certificate as icd_doris and icd_codedit do, without a client and without sending
/// anything: ICD_OK, or ICD_ERR_INVALID_ARGUMENT with the last error message saying what is wrong
/// (an unknown name and its closest field, a field twice, a missing value, no cause of death).
/// For forms and files checked before a run (the Python CLI checks a CSV's header with it).
#[no_mangle]
pub unsafe extern "C" fn icd_certificate_check(certificate: *const *const c_char) -> IcdStatus {
    if boundary(false, || certificate_arg(certificate).map(|_| (true, 0))) {
        IcdStatus::ICD_OK
    } else {
        last_error::code()
    }
}

/// The name of certificate field `index` (0 to 39, in the order of WHO's OpenAPI file), a static
/// string the caller must not free; NULL past the last. Leaves the last error untouched. For
/// bindings and forms that list the fields.
#[no_mangle]
pub extern "C" fn icd_certificate_field(index: usize) -> *const c_char {
    // The core's list, made C strings once (the names hold no NUL byte).
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        certificate::CERTIFICATE_FIELDS.iter().map(|name| CString::new(*name).unwrap_or_default()).collect()
    });
    names.get(index).map_or(ptr::null(), |name| name.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c_names_are_the_core_list() {
        let c_names: Vec<&str> =
            (0..40).map(|i| unsafe { std::ffi::CStr::from_ptr(icd_certificate_field(i)) }.to_str().unwrap()).collect();
        assert_eq!(c_names, certificate::CERTIFICATE_FIELDS);
        assert!(icd_certificate_field(40).is_null());
    }
}
