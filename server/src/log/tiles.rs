//! C2SP tlog-tiles hash tiles: the log's Merkle tree stored and served as tiles of 256
//! hashes, so a proof reads a few tiles (O(log n)) instead of every leaf.
//!
//! The tile at level `L`, index `N` holds, for `i` in `0..256`, the hash of the perfect
//! subtree of `256^L` leaves starting at leaf `(N * 256 + i) * 256^L`. A tile grows until it
//! is full; the partial tile of width `W` served for a checkpoint is its first `W` hashes
//! (they never change once written). A full tile's hash (the root of its 256 hashes) is
//! the next hash of the tile one level up.

use super::merkle::{self, Hash, Nodes};
use std::collections::BTreeMap;

/// Hashes per full tile.
pub const WIDTH: u64 = 256;
const HEIGHT: u32 = 8;

/// A tile's place: level and index.
pub type TileKey = (u8, u64);

/// Tiles by key, their bytes (32 per hash).
pub type TileMap = BTreeMap<TileKey, Vec<u8>>;

/// A tile URL path, `<L>/<N>[.p/<W>]` with `N` in 3-digit groups (`x001/x234/067`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    /// Level.
    pub level: u8,
    /// Index within the level.
    pub index: u64,
    /// Width of a partial tile (1..=255); `None` for a full tile.
    pub width: Option<u16>,
}

impl TilePath {
    /// Reads `<L>/<N>[.p/<W>]`; `None` if it is not a hash tile path (entry bundles,
    /// `tile/entries/…`, are not served: receipts are personal data).
    pub fn parse(path: &str) -> Option<Self> {
        let (path, width) = match path.split_once(".p/") {
            Some((p, w)) => {
                let ok =
                    !w.is_empty() && !w.starts_with('0') && w.bytes().all(|b| b.is_ascii_digit());
                let w: u16 = w
                    .parse()
                    .ok()
                    .filter(|w| ok && (1..WIDTH as u16).contains(w))?;
                (p, Some(w))
            }
            None => (path, None),
        };
        let mut parts = path.split('/');
        let level = parts.next()?;
        let level_ok = !level.is_empty()
            && level.bytes().all(|b| b.is_ascii_digit())
            && (level == "0" || !level.starts_with('0'));
        let level: u8 = level.parse().ok().filter(|l| level_ok && *l < 64)?;
        let groups: Vec<&str> = parts.collect();
        let (last, rest) = groups.split_last()?;
        let mut index: u64 = 0;
        for g in rest {
            let g = g.strip_prefix('x')?;
            index = index.checked_mul(1000)?.checked_add(group(g)?)?;
        }
        index = index.checked_mul(1000)?.checked_add(group(last)?)?;
        let tile = Self {
            level,
            index,
            width,
        };
        // One spelling per tile: reject `x000/005` for `005`.
        (tile.to_string()
            == format!("{}/{}", level, groups.join("/"))
                + &width.map_or(String::new(), |w| format!(".p/{w}")))
            .then_some(tile)
    }
}

fn group(g: &str) -> Option<u64> {
    (g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
        .then(|| g.parse().ok())
        .flatten()
}

impl std::fmt::Display for TilePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut groups = vec![format!("{:03}", self.index % 1000)];
        let mut n = self.index / 1000;
        while n > 0 {
            groups.push(format!("x{:03}", n % 1000));
            n /= 1000;
        }
        groups.reverse();
        write!(f, "{}/{}", self.level, groups.join("/"))?;
        if let Some(w) = self.width {
            write!(f, ".p/{w}")?;
        }
        Ok(())
    }
}

/// The rightmost partial tile of each level for a tree of `size` leaves, with its width:
/// the tiles a new leaf may extend.
pub fn partial_tiles(size: u64) -> Vec<(TileKey, u64)> {
    let mut out = Vec::new();
    let mut count = size; // complete hashes at this level
    let mut level = 0u8;
    while count > 0 {
        let width = count % WIDTH;
        if width > 0 {
            out.push(((level, count / WIDTH), width));
        }
        count /= WIDTH;
        level += 1;
    }
    out
}

/// Appends `leaf` to a tree of `size` leaves whose partial tiles are in `tiles`.
pub fn append(tiles: &mut TileMap, size: u64, leaf: Hash) {
    let mut count = size;
    let mut hash = leaf;
    let mut level = 0u8;
    loop {
        let index = count / WIDTH;
        let tile = tiles.entry((level, index)).or_default();
        tile.extend_from_slice(&hash);
        if tile.len() < (WIDTH as usize) * 32 {
            return;
        }
        hash = merkle::root(&hashes(tile));
        count = index;
        level += 1;
    }
}

/// A tile's bytes as hashes.
pub fn hashes(tile: &[u8]) -> Vec<Hash> {
    tile.chunks_exact(32)
        .filter_map(|c| c.try_into().ok())
        .collect()
}

/// The tile holding the hashes a node needs: node `(height, index)` is the root of the
/// `2^(height % 8)` hashes starting at `index << (height % 8)` of level `height / 8`.
fn place(height: u32, index: u64) -> Option<(TileKey, usize, usize)> {
    let level = u8::try_from(height / HEIGHT).ok()?;
    let r = height % HEIGHT;
    let first = index.checked_shl(r)?;
    let offset = usize::try_from(first % WIDTH).ok()?;
    Some(((level, first / WIDTH), offset, 1usize << r))
}

/// The tiles that the nodes `needed` lie in.
pub fn tiles_for(needed: &[(u32, u64)]) -> Vec<TileKey> {
    let mut keys: Vec<TileKey> = needed
        .iter()
        .filter_map(|&(h, i)| place(h, i).map(|(k, _, _)| k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Nodes read from tiles.
#[derive(Debug, Default)]
pub struct TileNodes(pub TileMap);

impl Nodes for TileNodes {
    fn node(&self, height: u32, index: u64) -> Option<Hash> {
        let (key, offset, count) = place(height, index)?;
        let tile = self.0.get(&key)?;
        let bytes = tile.get(offset * 32..(offset + count) * 32)?;
        Some(merkle::root(&hashes(bytes)))
    }
}

/// Every tile of the tree over `leaves` (for checking stored tiles).
pub fn build(leaves: &[Hash]) -> TileMap {
    let mut tiles = TileMap::new();
    for (i, leaf) in leaves.iter().enumerate() {
        append(&mut tiles, i as u64, *leaf);
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec() {
        for (s, level, index, width) in [
            ("0/000", 0, 0, None),
            ("1/x001/x234/067", 1, 1_234_067, None),
            ("0/x001/x234/067.p/8", 0, 1_234_067, Some(8)),
            ("2/255.p/255", 2, 255, Some(255)),
        ] {
            let t = TilePath::parse(s).expect(s);
            assert_eq!((t.level, t.index, t.width), (level, index, width), "{s}");
            assert_eq!(t.to_string(), s);
        }
        for s in [
            "entries/000",
            "0/0",
            "0/x000/005",
            "0/000.p/0",
            "0/000.p/256",
            "00/000",
            "64/000",
            "0/1234",
            "0/001/002",
            "0/000.p/08",
        ] {
            assert_eq!(TilePath::parse(s), None, "{s}");
        }
    }

    /// The spec's example: a tree of 70,000 leaves has 273 full level-0 tiles and one of
    /// width 112, one full level-1 tile and one of width 17, one level-2 tile of width 1.
    #[test]
    fn tiles_of_70000_leaves() {
        let leaves: Vec<Hash> = (0..70_000u32)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        let tiles = build(&leaves);
        let widths = |level: u8| -> Vec<usize> {
            tiles
                .iter()
                .filter(|((l, _), _)| *l == level)
                .map(|(_, t)| t.len() / 32)
                .collect()
        };
        let l0 = widths(0);
        assert_eq!(l0.len(), 274);
        assert_eq!(l0.iter().filter(|w| **w == 256).count(), 273);
        assert_eq!(l0.last(), Some(&112));
        assert_eq!(widths(1), vec![256, 17]);
        assert_eq!(widths(2), vec![1]);
        assert_eq!(
            partial_tiles(70_000),
            vec![((0, 273), 112), ((1, 1), 17), ((2, 0), 1)]
        );
        // Proofs from the tiles are the proofs from every node of the tree, hashed level
        // by level from the leaves (the RFC 6962 vectors check the proofs themselves).
        let mut levels = vec![leaves.clone()];
        while let Some(below) = levels.last().filter(|l| l.len() > 1) {
            let up: Vec<Hash> = below
                .chunks_exact(2)
                .map(|p| merkle::node_hash(&p[0], &p[1]))
                .collect();
            levels.push(up);
        }
        struct Levels(Vec<Vec<Hash>>);
        impl Nodes for Levels {
            fn node(&self, height: u32, index: u64) -> Option<Hash> {
                self.0.get(height as usize)?.get(index as usize).copied()
            }
        }
        let all = Levels(levels);
        let from_tiles = TileNodes(tiles);
        for size in [1u64, 255, 256, 257, 65_536, 65_537, 70_000] {
            assert_eq!(
                merkle::range_root(&from_tiles, 0, size),
                merkle::range_root(&all, 0, size),
                "{size}"
            );
            for m in [0u64, 1, size / 2, size - 1]
                .into_iter()
                .filter(|m| *m < size)
            {
                let path = merkle::inclusion_path(&from_tiles, m, size);
                assert!(path.is_some(), "{m} of {size}");
                assert_eq!(path, merkle::inclusion_path(&all, m, size), "{m} of {size}");
                let proof = merkle::consistency_path(&from_tiles, m, size);
                assert!(proof.is_some(), "{m} to {size}");
                assert_eq!(
                    proof,
                    merkle::consistency_path(&all, m, size),
                    "{m} to {size}"
                );
            }
        }
        assert_eq!(
            merkle::range_root(&from_tiles, 0, 1000),
            Some(merkle::root(&leaves[..1000]))
        );
    }

    /// A proof in a log of a million receipts reads a handful of tiles (rows), whatever
    /// the receipt: O(log n), not the 1,000,000 leaves.
    #[test]
    fn a_proof_in_a_million_leaves_reads_a_few_tiles() {
        let size = 1_000_000u64;
        let mut most = 0;
        for m in [0u64, 1, 255, 256, 65_535, 65_536, 500_000, 999_423, 999_999] {
            let needed = merkle::Needed::default();
            let path = merkle::inclusion_path(&needed, m, size).expect("path");
            assert!(path.len() <= 20, "{m}");
            most = most.max(tiles_for(&needed.0.borrow()).len());
            let needed = merkle::Needed::default();
            merkle::consistency_path(&needed, m + 1, size).expect("proof");
            most = most.max(tiles_for(&needed.0.borrow()).len());
        }
        assert!(most <= 8, "{most} tiles");
        assert!(
            most >= 3,
            "{most} tiles: a leaf, its level-1 and level-2 tiles at least"
        );
    }
}
