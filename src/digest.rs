//! SHA-256 as lower-case hex: the names of tokens, disk cache entries and their checksums.

use ring::digest::{digest, SHA256};

/// The SHA-256 of `data` as 64 lower-case hex digits. A table, not `format!` per byte: a client
/// names its token this way whenever it is created or its endpoint changes (a PHP page makes one
/// per request), and `format!` made that most of a client's creation cost.
pub fn sha256_hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let hash = digest(&SHA256, data);
    let mut hex = String::with_capacity(64);
    for byte in hash.as_ref() {
        hex.push(DIGITS[usize::from(byte >> 4)] as char);
        hex.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    hex
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_known_digest_of_abc() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
