//! ICD-10 ↔ ICD-11 through WHO's mapping tables: the tab-separated files of a release's
//! `mapping.zip` (https://icdcdn.who.int/static/releasefiles/{release}/mapping.zip), read from
//! the zip itself or from the directory it was unpacked into. No network: each table is read
//! once per path and process, on first use, and kept as its text plus the field offsets of its
//! rows and an index by code, so that a lookup is one hash probe.
//!
//! The layout (UTF-8, CRLF, one header line whose last column is the table's date) is as public
//! code that reads WHO's files shows it; columns are found by their header names, extra columns
//! and a byte-order mark are tolerated, and a missing file or column is named in the error.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::error::{Error, ErrorKind, Result};
use crate::{Client, Reply};

/// One of WHO's tables, as the library reads it.
struct TableKind {
    file: &'static str,
    /// Where the table is kept among a path's tables.
    slot: usize,
    /// `"table"` in each object returned: "one" or "multiple".
    label: &'static str,
    /// The column whose codes are looked up.
    key: &'static str,
    /// The columns the table must have (a file without one is not read as WHO's table).
    required: &'static [&'static str],
    /// The column whose URI is also given as `icd11Uri`.
    linearization_uri: &'static str,
    /// The column whose URI is also given as `foundationUri` ("" when the table has none).
    foundation_uri: &'static str,
}

const TEN_TO_ELEVEN_COLUMNS: &[&str] =
    &["icd10Code", "icd10Title", "icd11Code", "icd11Title", "ICD-11 FoundationURI", "Linearization (releaseURI)"];

const TEN_TO_ELEVEN_ONE: TableKind = TableKind {
    file: "10To11MapToOneCategory.txt",
    slot: 0,
    label: "one",
    key: "icd10Code",
    required: TEN_TO_ELEVEN_COLUMNS,
    linearization_uri: "Linearization (releaseURI)",
    foundation_uri: "ICD-11 FoundationURI",
};

const TEN_TO_ELEVEN_MULTIPLE: TableKind =
    TableKind { file: "10To11MapToMultipleCategories.txt", slot: 1, label: "multiple", ..TEN_TO_ELEVEN_ONE };

const ELEVEN_TO_TEN_ONE: TableKind = TableKind {
    file: "11To10MapToOneCategory.txt",
    slot: 2,
    label: "one",
    key: "icd11Code",
    required: &["icd11Code", "icd11Title", "icd10Code", "icd10Title", "Linearization (release) URI"],
    linearization_uri: "Linearization (release) URI",
    foundation_uri: "",
};

/// Which way a code is mapped, and from which tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Icd10ToIcd11,
    Icd11ToIcd10,
}

impl Direction {
    fn tables(self) -> &'static [TableKind] {
        match self {
            Direction::Icd10ToIcd11 => &[TEN_TO_ELEVEN_ONE, TEN_TO_ELEVEN_MULTIPLE],
            Direction::Icd11ToIcd10 => &[ELEVEN_TO_TEN_ONE],
        }
    }
}

/// A table read into memory.
struct Table {
    label: &'static str,
    /// The whole file; the fields are ranges of it.
    text: String,
    /// The header names given back in each object, in the file's order (the date column left out).
    names: Vec<String>,
    /// `,"name":` for each of `names`, written once here rather than on every lookup.
    members: Vec<String>,
    /// Whether some field holds a character JSON must escape (a quote, a backslash, a control
    /// character); WHO's tables hold none, and then fields are copied as they are.
    needs_escapes: bool,
    /// For each row, `names.len()` (start, end) ranges of `text`, trimmed.
    fields: Vec<(u32, u32)>,
    /// Normalised code (trimmed, upper case) → its rows, in file order.
    index: HashMap<Box<str>, Vec<u32>>,
    /// Where in `names` the URIs given again as `icd11Uri` and `foundationUri` are.
    linearization_uri: usize,
    foundation_uri: Option<usize>,
}

impl Table {
    fn parse(kind: &TableKind, text: String, source: &str) -> Result<Table> {
        let bad =
            |what: String| Error::new(ErrorKind::Parse, format!("mapping table {} in {source}: {what}", kind.file));
        if u32::try_from(text.len()).is_err() {
            return Err(bad("over 4 GiB: not one of WHO's tables".into()));
        }
        let body_start = text.find('\n').map_or(text.len(), |at| at + 1);
        let header = text[..body_start].trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']);
        // The last header column is the table's date ("2024-Jan-21"): no field of the rows.
        let is_date = |name: &str| {
            name.len() > 5 && name.as_bytes()[..4].iter().all(u8::is_ascii_digit) && name.as_bytes()[4] == b'-'
        };
        let kept: Vec<(usize, String)> = header
            .split('\t')
            .map(str::trim)
            .enumerate()
            .filter(|(_, name)| !name.is_empty() && !is_date(name))
            .map(|(at, name)| (at, name.to_owned()))
            .collect();
        let position = |name: &str| kept.iter().position(|(_, n)| n == name);
        for column in kind.required {
            if position(column).is_none() {
                let found: Vec<&str> = kept.iter().map(|(_, n)| n.as_str()).collect();
                return Err(bad(format!(
                    "no column \"{column}\" (its header has: {}); is this WHO's file?",
                    if found.is_empty() { "nothing".to_owned() } else { found.join(", ") }
                )));
            }
        }
        let key = position(kind.key).expect("checked above");
        let mut table = Table {
            label: kind.label,
            names: kept.iter().map(|(_, n)| n.clone()).collect(),
            members: kept.iter().map(|(_, n)| member_prefix(n)).collect(),
            needs_escapes: text.bytes().any(|b| b == b'"' || b == b'\\' || (b < 0x20 && !b"\t\r\n".contains(&b))),
            fields: Vec::new(),
            index: HashMap::new(),
            linearization_uri: position(kind.linearization_uri).expect("checked above"),
            foundation_uri: position(kind.foundation_uri),
            text: String::new(),
        };
        let mut row_fields: Vec<(u32, u32)> = Vec::with_capacity(header.split('\t').count());
        let mut line_start = body_start;
        let mut row = 0u32;
        while line_start < text.len() {
            let line_end = text[line_start..].find('\n').map_or(text.len(), |at| line_start + at);
            let line = &text[line_start..line_end];
            if !line.trim().is_empty() {
                row_fields.clear();
                let mut at = line_start;
                for field in line.split('\t') {
                    let trimmed = field.trim();
                    let start = at + (field.len() - field.trim_start().len());
                    row_fields.push((start as u32, (start + trimmed.len()) as u32));
                    at += field.len() + 1;
                }
                for (column, _) in &kept {
                    table.fields.push(row_fields.get(*column).copied().unwrap_or((0, 0)));
                }
                let (start, end) = table.fields[row as usize * kept.len() + key];
                let code = &text[start as usize..end as usize];
                if !code.is_empty() {
                    table.index.entry(normalise(code).into()).or_default().push(row);
                }
                row += 1;
            }
            line_start = line_end + 1;
        }
        table.fields.shrink_to_fit();
        table.text = text;
        Ok(table)
    }

    fn field(&self, row: u32, column: usize) -> &str {
        let (start, end) = self.fields[row as usize * self.names.len() + column];
        &self.text[start as usize..end as usize]
    }

    /// Appends one JSON object per row of `code` to `out` (an array being written).
    fn write_rows(&self, code: &str, out: &mut String) {
        let Some(rows) = self.index.get(code) else { return };
        for &row in rows {
            out.push_str(if out.len() > 1 { ",{\"table\":" } else { "{\"table\":" });
            self.push_value(out, self.label);
            for (column, member) in self.members.iter().enumerate() {
                out.push_str(member);
                self.push_value(out, self.field(row, column));
            }
            out.push_str(",\"icd11Uri\":");
            self.push_value(out, self.field(row, self.linearization_uri));
            if let Some(column) = self.foundation_uri {
                out.push_str(",\"foundationUri\":");
                self.push_value(out, self.field(row, column));
            }
            out.push('}');
        }
    }
}

impl Table {
    fn push_value(&self, out: &mut String, value: &str) {
        if self.needs_escapes {
            push_json_string(out, value);
        } else {
            out.push('"');
            out.push_str(value);
            out.push('"');
        }
    }
}

/// `,"name":` with the name as a JSON string.
fn member_prefix(name: &str) -> String {
    let mut prefix = String::from(",");
    push_json_string(&mut prefix, name);
    prefix.push(':');
    prefix
}

/// `text` as a JSON string: copied between quotes when it needs no escape, else through
/// serde_json, which escapes exactly what JSON requires.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    }
}

/// A code as the tables are indexed: surrounding blanks off, ASCII letters in upper case (codes
/// are ASCII; anything else is compared as it is).
fn normalise(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// The tables read so far in this process, by the path given, then by file name. A table that
/// could not be read is not remembered: the next call tries again (the file may have been put there).
/// (Keyed by the path's bytes: hashing them is cheaper than hashing a Path component by component.)
/// A path's three tables, each once read (by `TableKind::slot`).
type Tables = [Option<Arc<Table>>; 3];

type Loaded = Mutex<HashMap<OsString, Tables>>;

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(Loaded::default)
}

/// Reading happens under this lock, so that threads asking for a table being read wait for it
/// rather than read it again.
fn reading() -> &'static Mutex<()> {
    static READING: Mutex<()> = Mutex::new(());
    &READING
}

thread_local! {
    /// The tables this thread used last, with their path: a lookup then takes neither the
    /// process's lock nor a hash of the path (a table, once read, is never replaced).
    static RECENT: RefCell<Option<(OsString, Tables)>> = const { RefCell::new(None) };
}

fn table(path: &Path, kind: &TableKind) -> Result<Arc<Table>> {
    let recent = RECENT.with(|recent| match &*recent.borrow() {
        Some((known, tables)) if known == path.as_os_str() => tables[kind.slot].clone(),
        _ => None,
    });
    if let Some(table) = recent {
        return Ok(table);
    }
    let table = table_of_process(path, kind)?;
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if !matches!(&*recent, Some((known, _)) if known == path.as_os_str()) {
            *recent = Some((path.as_os_str().to_owned(), Default::default()));
        }
        if let Some((_, tables)) = &mut *recent {
            tables[kind.slot] = Some(table.clone());
        }
    });
    Ok(table)
}

fn table_of_process(path: &Path, kind: &TableKind) -> Result<Arc<Table>> {
    let known = || loaded().lock().get(path.as_os_str()).and_then(|tables| tables[kind.slot].clone());
    if let Some(table) = known() {
        return Ok(table);
    }
    let _reading = reading().lock();
    if let Some(table) = known() {
        return Ok(table);
    }
    let source = path.display().to_string();
    let table = Arc::new(Table::parse(kind, read_file(path, kind.file)?, &source)?);
    loaded().lock().entry(path.as_os_str().to_owned()).or_default()[kind.slot] = Some(table.clone());
    Ok(table)
}

/// The text of `file` from WHO's zip at `path`, or from the directory `path` (or a folder in it).
fn read_file(path: &Path, file: &str) -> Result<String> {
    let failed = |why: String| Error::new(ErrorKind::Parse, format!("mapping tables {}: {why}", path.display()));
    let metadata = std::fs::metadata(path).map_err(|e| failed(format!("cannot be read ({e})")))?;
    let bytes = if metadata.is_dir() {
        let candidates = std::iter::once(path.join(file)).chain(
            std::fs::read_dir(path)
                .map_err(|e| failed(format!("cannot be listed ({e})")))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path().join(file))),
        );
        let found = candidates.into_iter().find(|candidate| candidate.is_file()).ok_or_else(|| {
            failed(format!("the directory holds no {file} (nor does a folder in it): unpack WHO's mapping.zip there"))
        })?;
        std::fs::read(&found).map_err(|e| failed(format!("{} cannot be read ({e})", found.display())))?
    } else {
        let opened = std::fs::File::open(path).map_err(|e| failed(format!("cannot be opened ({e})")))?;
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(opened))
            .map_err(|e| failed(format!("is neither a directory nor a readable zip file ({e})")))?;
        let name = archive
            .file_names()
            .find(|name| name.rsplit(['/', '\\']).next().is_some_and(|base| base.eq_ignore_ascii_case(file)))
            .map(str::to_owned)
            .ok_or_else(|| failed(format!("the zip file holds no {file}: is it WHO's mapping.zip?")))?;
        let mut entry = archive.by_name(&name).map_err(|e| failed(format!("{name} cannot be read ({e})")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 30));
        entry.read_to_end(&mut bytes).map_err(|e| failed(format!("{name} cannot be unpacked ({e})")))?;
        bytes
    };
    String::from_utf8(bytes).map_err(|e| {
        failed(format!(
            "{file} is not UTF-8 (invalid byte at offset {}): WHO's tables are UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

impl Client {
    /// The rows of WHO's 10→11 tables (`one` and `multiple`) that map an ICD-10 code.
    pub fn map_icd10_to_icd11(&self, icd10_code: &str) -> Result<Reply> {
        self.map_code(Direction::Icd10ToIcd11, icd10_code)
    }

    /// The rows of WHO's 11→10 table that map an ICD-11 code.
    pub fn map_icd11_to_icd10(&self, icd11_code: &str) -> Result<Reply> {
        self.map_code(Direction::Icd11ToIcd10, icd11_code)
    }

    /// A JSON array of one object per row that maps `code`, `[]` when none does.
    fn map_code(&self, direction: Direction, code: &str) -> Result<Reply> {
        let config = self.config();
        let Some(path) = &config.mapping_tables else {
            let release = if config.release == crate::icd::latest::LATEST { "{release}" } else { &config.release };
            return Err(Error::invalid_argument(format!(
                "option mapping_tables is not set: download WHO's mapping tables of your release, \
                 https://icdcdn.who.int/static/releasefiles/{release}/mapping.zip, and set the option to the \
                 path of that zip file or of the directory it was unpacked into"
            )));
        };
        if code.trim().is_empty() {
            return Err(Error::invalid_argument("code is empty"));
        }
        let code = normalise(code);
        let mut out = String::with_capacity(1024);
        out.push('[');
        for kind in direction.tables() {
            table(path, kind)?.write_rows(&code, &mut out);
        }
        out.push(']');
        Ok(Reply { body: out.into(), http_status: 0, reports_error: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "10ClassKind\t10DepthInKind\ticd10Code\ticd10Chapter\ticd10Title\t11ClassKind\t\
                          11DepthInKind\tICD-11 FoundationURI\tLinearization (releaseURI)\ticd11Code\t\
                          icd11Chapter\ticd11Title\t2024-Jan-21";

    fn parse(text: &str) -> Result<Table> {
        Table::parse(&TEN_TO_ELEVEN_ONE, text.to_owned(), "test")
    }

    fn rows(table: &Table, code: &str) -> serde_json::Value {
        let mut out = String::from("[");
        table.write_rows(&normalise(code), &mut out);
        out.push(']');
        serde_json::from_str(&out).unwrap()
    }

    #[test]
    fn rows_are_found_by_code_whatever_the_case_and_blanks() {
        let text = format!(
            "\u{feff}{HEADER}\r\ncategory\t1\t A00.0 \tI\tCholera due to \"classical\" \\ \u{1}é\tcategory\t1\t\
             http://id.who.int/icd/entity/1\thttp://id.who.int/icd/release/11/2024-01/mms/1\t1A00\t01\tCholera\textra\r\n\
             \r\ncategory\t1\tA00.0\tI\tCholera\tcategory\t1\tf2\tl2\t1A01\t01\tSecond\r\nshort\tline\r\n"
        );
        let table = parse(&text).unwrap();
        let found = rows(&table, "a00.0 ");
        assert_eq!(found.as_array().unwrap().len(), 2);
        assert_eq!(found[0]["table"], "one");
        assert_eq!(found[0]["icd10Code"], "A00.0");
        assert_eq!(found[0]["icd10Title"], "Cholera due to \"classical\" \\ \u{1}é", "escaped where JSON needs it");
        assert_eq!(found[0]["icd11Code"], "1A00");
        assert_eq!(found[0]["icd11Uri"], "http://id.who.int/icd/release/11/2024-01/mms/1");
        assert_eq!(found[0]["foundationUri"], "http://id.who.int/icd/entity/1");
        assert!(found[0].get("2024-Jan-21").is_none(), "the date column is no field");
        assert_eq!(found[1]["icd11Code"], "1A01");
        assert_eq!(rows(&table, "short"), serde_json::json!([]), "a short line is kept but has no icd10Code");
        assert_eq!(rows(&table, "B99"), serde_json::json!([]));
    }

    #[test]
    fn a_missing_column_is_named() {
        let error = parse("icd10Code\ticd10Title\n").err().unwrap();
        assert_eq!(error.kind(), ErrorKind::Parse);
        assert!(
            error.message().contains("no column \"icd11Code\"")
                && error.message().contains("10To11MapToOneCategory.txt")
        );
        assert!(parse("").err().unwrap().message().contains("its header has: nothing"));
    }
}
