//! The option table of `docs/reference.md` (`| \`name\` | \`default\` | meaning |`) against the
//! library, through the C ABI as a program would read it: every default the table states is what
//! `icd_client_get_option` reads back from a fresh client, the table lists no option the library
//! lacks, and it misses none the library has (`icd_option_names`, and the names the unknown-option
//! error lists). So the table cannot drift from the code again.
//!
//! One test in this file (its own process): it clears the environment variables that replace
//! defaults (`ICD_API_BASE`, `ICD_TOKEN_ENDPOINT`, `ICDAPI_LOG`) before creating the client.

mod support;

use std::collections::BTreeMap;
use std::ffi::CStr;

use icdapi::ffi::*;
use support::c_abi::{c, last_message, take};

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md");

/// The rows of the option table: name → the default as written in the table's second column.
fn documented_options() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(REFERENCE).expect("docs/reference.md");
    let mut lines = text.lines().skip_while(|line| !line.starts_with("| name | default | meaning |"));
    assert!(lines.next().is_some(), "docs/reference.md has no option table (| name | default | meaning |)");
    assert!(lines.next().is_some_and(|line| line.starts_with("|---")), "the option table lacks its |---| line");
    let mut options = BTreeMap::new();
    for row in lines.take_while(|line| line.starts_with('|')) {
        let cells: Vec<&str> = row.split(" | ").map(|cell| cell.trim_matches(|c| c == '|' || c == ' ')).collect();
        assert!(cells.len() >= 3, "an option row without three columns: {row}");
        let name = cells[0].strip_prefix('`').and_then(|n| n.strip_suffix('`'));
        let name = name.unwrap_or_else(|| panic!("an option name not in `backquotes`: {row}"));
        let previous = options.insert(name.to_owned(), cells[1].to_owned());
        assert!(previous.is_none(), "the option table lists {name} twice");
    }
    assert!(!options.is_empty(), "the option table has no rows");
    options
}

/// What `icd_client_get_option` reads back for a default written as the table writes it:
/// `` `value` `` is the value, `none` and `""` are an empty text, `<version>` is the library's.
fn expected_value(name: &str, written: &str) -> String {
    if written == "none" || written == "\"\"" {
        return String::new();
    }
    let value = written.strip_prefix('`').and_then(|v| v.strip_suffix('`'));
    let value = value.unwrap_or_else(|| panic!("the default of {name} is neither `value`, none nor \"\": {written}"));
    let version = unsafe { CStr::from_ptr(icd_version()) }.to_str().unwrap();
    value.replace("<version>", version)
}

/// The option names the library knows: `icd_option_names`, which must agree with the list the
/// unknown-option error gives.
fn library_options(client: *mut IcdClient) -> Vec<String> {
    let names = unsafe { CStr::from_ptr(icd_option_names()) }.to_str().unwrap();
    let names: Vec<String> = names.split(',').map(str::to_owned).collect();
    let read = unsafe { icd_client_get_option(client, c("no_such_option").as_ptr()) };
    assert!(read.is_null(), "an unknown option was read back");
    assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    let message = last_message();
    let (_, listed) = message.split_once("known options: ").unwrap_or_else(|| panic!("no list of names in: {message}"));
    assert_eq!(listed.split(", ").collect::<Vec<_>>(), names, "the unknown-option error lists other names");
    names
}

#[test]
fn the_option_table_states_every_option_and_its_default() {
    for variable in ["ICD_API_BASE", "ICD_TOKEN_ENDPOINT", "ICDAPI_LOG"] {
        std::env::remove_var(variable);
    }
    let documented = documented_options();
    let client = unsafe { icd_client_new(c("id").as_ptr(), c("secret").as_ptr()) };
    assert!(!client.is_null(), "{}", last_message());

    let mut wrong = Vec::new();
    for (name, written) in &documented {
        let read = take(unsafe { icd_client_get_option(client, c(name).as_ptr()) });
        match read {
            None => {
                wrong.push(format!("{name}: in the table, but the library has no such option ({})", last_message()))
            }
            Some(value) if value != expected_value(name, written) => {
                wrong.push(format!("{name}: the table says {written}, a fresh client reads back \"{value}\""))
            }
            Some(_) => {}
        }
    }
    for name in library_options(client) {
        if !documented.contains_key(&name) {
            wrong.push(format!("{name}: an option of the library that the table lacks"));
        }
    }
    unsafe { icd_client_free(client) };
    assert!(wrong.is_empty(), "docs/reference.md's option table is wrong:\n{}", wrong.join("\n"));
}
