//! A reproducible train/held-out split by a seeded hash of each person's
//! key (their pseudonym), so a person's side depends only on their key and
//! the seed — not on row order or on who else is in the data.
//!
//! The hash is 64-bit FNV-1a (Fowler, Noll & Vo; IETF draft
//! draft-eastlake-fnv) over the seed's eight little-endian bytes followed
//! by the key's bytes, then the splitmix64 finaliser (Steele, Lea & Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014) to spread
//! FNV's weak high bits. The top 53 bits give u uniform on [0, 1); the
//! person is held out when u < the held-out fraction. Both steps are fixed
//! arithmetic, so the split is the same on every platform and Rust version
//! (unlike `std`'s `DefaultHasher`). This is not a keyed cryptographic
//! hash: it only needs to be unrelated to the outcome.

use serde::{Deserialize, Serialize};

/// FNV-1a 64-bit offset basis and prime.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Options for [`split`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitOptions {
    /// Seed mixed into every key's hash.
    pub seed: u64,
    /// Share of people held out, in [0, 1].
    pub held_out: f64,
}

impl Default for SplitOptions {
    /// Seed 18 (the issue), 30% held out.
    fn default() -> Self {
        SplitOptions { seed: 18, held_out: 0.3 }
    }
}

/// Row indices on each side of the split, each ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub held_out: Vec<usize>,
}

/// The splitmix64 output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 64-bit FNV-1a of `bytes`.
fn fnv1a<'a>(bytes: impl Iterator<Item = &'a u8>) -> u64 {
    bytes.fold(FNV_OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// FNV-1a over the seed and the key, then mixed.
fn hash(seed: u64, key: &[u8]) -> u64 {
    mix(fnv1a(seed.to_le_bytes().iter().chain(key)))
}

/// Whether the person with `key` is held out under `options`.
pub fn is_held_out(key: &[u8], options: SplitOptions) -> bool {
    let u = (hash(options.seed, key) >> 11) as f64 / (1u64 << 53) as f64;
    u < options.held_out
}

/// Splits rows by their people's keys (row i belongs to `keys[i]`).
pub fn split<K: AsRef<[u8]>>(keys: &[K], options: SplitOptions) -> Split {
    let (held_out, train) = (0..keys.len()).partition(|&i| is_held_out(keys[i].as_ref(), options));
    Split { train, held_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_and_splitmix_reference_values() {
        // FNV-1a 64 test vectors (draft-eastlake-fnv, appendix C / the FNV
        // reference test suite): "" → cbf29ce484222325, "a" →
        // af63dc4c8601ec8c, "foobar" → 85944171f73967e8.
        assert_eq!(fnv1a(b"".iter()), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a".iter()), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar".iter()), 0x8594_4171_f739_67e8);
        // splitmix64 from state 0: the first output is the mix of
        // 0x9E3779B97F4A7C15, e220a8397b1dcdaf (Vigna's splitmix64.c).
        assert_eq!(mix(0x9E37_79B9_7F4A_7C15), 0xe220_a839_7b1d_cdaf);
    }
}
