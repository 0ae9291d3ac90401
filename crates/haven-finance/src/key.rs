//! Record keys and tokens as validation holds them.
//!
//! In a keyed zone every person token and every SUS+ record key is 32
//! lowercase hex characters (a keyed hash, `haven-ingest`), and a full ICB's
//! year holds millions of them: held as text each would be a heap string of
//! 32 bytes behind a 24-byte handle. A [`Key`] holds such a value as its 16
//! bytes, inline, and anything else (a provider's spell number, a reference
//! typed by hand) as short inline text, so no key allocates and two keys
//! compare and hash as plain bytes. Keys are never interned: they are
//! per-record values, and a long-running server must not keep them.

use std::fmt;

use compact_str::CompactString;

/// A person token, record key, spell number or reference, exactly as read.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// 32 lowercase hex characters, as their 16 bytes.
    Hex([u8; 16]),
    /// Anything else, verbatim (inline up to 24 bytes).
    Text(CompactString),
}

impl Key {
    /// The key of `text`: its bytes when it is 32 lowercase hex characters
    /// (so [`fmt::Display`] gives `text` back exactly), else the text.
    pub fn parse(text: &str) -> Key {
        match hex16(text.as_bytes()) {
            Some(b) => Key::Hex(b),
            None => Key::Text(CompactString::from(text)),
        }
    }

    /// Whether the key is blank.
    pub fn is_empty(&self) -> bool {
        matches!(self, Key::Text(t) if t.trim().is_empty())
    }
}

fn hex16(s: &[u8]) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    // A table of nibble values (0xFF: not lowercase hex), so each byte is
    // one lookup: millions of keys are read per run.
    const NIBBLE: [u8; 256] = {
        let mut t = [0xFF; 256];
        let mut c = 0;
        while c < 10 {
            t[b'0' as usize + c] = c as u8;
            c += 1;
        }
        let mut c = 0;
        while c < 6 {
            t[b'a' as usize + c] = 10 + c as u8;
            c += 1;
        }
        t
    };
    let mut out = [0u8; 16];
    let mut bad = 0u8;
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
        bad |= (hi | lo) & 0xF0;
        out[i] = (hi << 4) | (lo & 0x0F);
    }
    (bad == 0).then_some(out)
}

impl Default for Key {
    fn default() -> Key {
        Key::Text(CompactString::default())
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key::parse(s)
    }
}

impl From<String> for Key {
    fn from(s: String) -> Key {
        Key::parse(&s)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Hex(b) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
            Key::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_keyed_token_is_held_as_its_bytes_and_anything_else_as_text() {
        let token = "0a0ebc40e1bab9d90371ffc47610b289";
        assert!(matches!(Key::parse(token), Key::Hex(b) if b[0] == 0x0a && b[15] == 0x89));
        // Upper case, a wrong length or a non-hex character stay text, so
        // each is given back exactly as it came.
        for other in ["0A0EBC40E1BAB9D90371FFC47610B289", "R1A000000001", "0a0ebc40e1bab9d90371ffc47610b28", "0a0ebc40e1bab9d90371ffc47610b28g", ""] {
            assert!(matches!(Key::parse(other), Key::Text(_)), "{other}");
            assert_eq!(Key::parse(other).to_string(), other);
        }
        assert!(std::mem::size_of::<Option<Key>>() <= 24, "a key costs no more than the handle it replaces");
    }

    proptest! {
        /// Whatever the text: reading it as a key and writing it back gives
        /// the same text, and two keys are equal exactly when their texts are.
        #[test]
        fn a_key_gives_back_its_text_and_compares_as_it(a in "[0-9a-fA-F]{30,33}|[ -~]{0,40}", b in "[0-9a-f]{32}") {
            prop_assert_eq!(Key::parse(&a).to_string(), a.clone());
            prop_assert_eq!(Key::parse(&b).to_string(), b.clone());
            prop_assert_eq!(Key::parse(&a) == Key::parse(&b), a == b);
        }
    }
}
