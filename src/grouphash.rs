//! The hasher of the `stats` group table: fast on long keys, and seeded
//! at random in every process.
//!
//! Group keys are BY values, among them `ScriptBlockText`, which anyone
//! who can run PowerShell on a monitored host writes. A hasher with a
//! fixed seed (FxHash, or any `with_seed(0)`) would let such a person
//! prepare script blocks whose keys all collide and make the table
//! quadratic. Rust's default SipHash resists that but reads multi-KB keys
//! several times slower than foldhash, the hasher hashbrown uses by
//! default. foldhash's own random seed comes from addresses and the
//! clock, so this module seeds it from the operating system's randomness
//! instead, by way of the standard library's `RandomState`: one shared
//! seed per process and one more per table. The hash of a key is never
//! shown to anyone, so nobody can learn the seed from outside.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;

use foldhash::fast::{FoldHasher, SeedableRandomState};
use foldhash::SharedSeed;

/// Builds the hashers of one table: foldhash under a seed drawn from the
/// operating system's randomness. Its `Debug` shows no seed.
#[derive(Clone)]
pub struct GroupHasher(SeedableRandomState);

impl GroupHasher {
    /// A hasher with a new random per-table seed and the process's random
    /// shared seed.
    pub fn random() -> GroupHasher {
        static SHARED: OnceLock<SharedSeed> = OnceLock::new();
        let shared = SHARED.get_or_init(|| SharedSeed::from_u64(os_random()));
        GroupHasher(SeedableRandomState::with_seed(os_random(), shared))
    }
}

impl Default for GroupHasher {
    /// The same as [`GroupHasher::random`].
    fn default() -> GroupHasher {
        GroupHasher::random()
    }
}

impl std::fmt::Debug for GroupHasher {
    /// Names the type and hides the seeds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupHasher { .. }")
    }
}

impl BuildHasher for GroupHasher {
    type Hasher = FoldHasher<'static>;

    /// A foldhash hasher under this table's seeds.
    fn build_hasher(&self) -> FoldHasher<'static> {
        self.0.build_hasher()
    }
}

/// 64 random bits: SipHash of nothing under a fresh `RandomState`, whose
/// keys the standard library takes from the operating system (and, within
/// one thread, steps for every new state, so two calls differ).
fn os_random() -> u64 {
    RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_within_a_table() {
        let hasher = GroupHasher::random();
        let key = b"Get-Service | Stop-Service".as_slice();
        assert_eq!(hasher.hash_one(key), hasher.hash_one(key.to_vec()));
    }

    #[test]
    fn every_table_has_its_own_seed() {
        // Two tables hashing the same keys agree on none of 8 keys: with
        // one seed they would agree on all. Chance of a false failure: 8
        // independent 64-bit coincidences.
        let (a, b) = (GroupHasher::random(), GroupHasher::random());
        let keys: Vec<Vec<u8>> =
            (0..8u8).map(|i| vec![i; 10 + i as usize]).collect();
        let same = keys
            .iter()
            .filter(|k| a.hash_one(k) == b.hash_one(k))
            .count();
        assert_eq!(same, 0);
    }

    #[test]
    fn debug_shows_no_seed() {
        assert_eq!(
            format!("{:?}", GroupHasher::random()),
            "GroupHasher { .. }"
        );
    }
}
