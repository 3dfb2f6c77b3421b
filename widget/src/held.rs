//! The visitor's own copies of their receipts: the entries (`{receipt, jws, proof}`) this
//! browser received when recording a choice and when listing its history, kept in
//! localStorage per site (`yinyom.<site>.receipts`, at most [`KEPT`]). The loader appends
//! each receipt the server acknowledges (`widget/js/loader.js`, `acknowledged`); the
//! widget merges in what the server lists, with its proofs. A copy the server no longer
//! lists is what a visitor shows when an operator dropped a receipt: it stays kept and is
//! reported as missing.

/// Most receipts kept per site (the loader keeps the same number). The server lists up to
/// 200, so a receipt kept here is never missing from its answer only for being too old.
pub const KEPT: usize = 50;

/// One entry as the widget holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Held<T> {
    /// The receipt id (a UUIDv7: its text sorts in time order).
    pub id: String,
    /// Whether the entry carries its tlog-proof.
    pub proof: bool,
    /// The entry itself, exactly as the server sent it.
    pub entry: T,
}

/// What [`merge`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged<T> {
    /// The copies to keep, oldest first, at most [`KEPT`].
    pub kept: Vec<Held<T>>,
    /// The copies this browser holds that the server's answer lacks, newest first.
    pub missing: Vec<Held<T>>,
}

/// Merges the server's answer (`server`, newest first) into the copies this browser holds
/// (`held`, oldest first, as the loader appends them). The server's entry replaces a held
/// one, unless only the held one carries a proof; held copies the server does not list
/// stay, and are `missing`.
pub fn merge<T: Clone>(held: Vec<Held<T>>, server: &[Held<T>]) -> Merged<T> {
    // Kept in id (time) order by insertion: no sort code in the wasm.
    let mut kept: Vec<Held<T>> = Vec::new();
    let mut put = |h: &Held<T>, replace: bool| {
        let at = kept.partition_point(|k| k.id < h.id);
        match kept.get_mut(at) {
            Some(k) if k.id == h.id => {
                if replace && (h.proof || !k.proof) {
                    *k = h.clone();
                }
            }
            _ => kept.insert(at, h.clone()),
        }
    };
    for h in held {
        put(&h, false);
    }
    for s in server {
        put(s, true);
    }
    let extra = kept.len().saturating_sub(KEPT);
    kept.drain(..extra);
    let missing = kept
        .iter()
        .rev()
        .filter(|h| !server.iter().any(|s| s.id == h.id))
        .cloned()
        .collect();
    Merged { kept, missing }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(id: &str, proof: bool, from: &'static str) -> Held<&'static str> {
        Held {
            id: id.to_owned(),
            proof,
            entry: from,
        }
    }

    /// A receipt the browser holds and the server no longer lists is reported and kept;
    /// the server's entries (with their proofs) replace the copies from recording.
    #[test]
    fn a_dropped_receipt_is_missing_and_kept() {
        let held = vec![
            h("01a", false, "post"),
            h("01b", false, "post"),
            h("01c", true, "list"),
        ];
        let server = vec![h("01c", true, "server"), h("01a", true, "server")];
        let m = merge(held, &server);
        assert_eq!(m.missing, vec![h("01b", false, "post")]);
        assert_eq!(
            m.kept,
            vec![
                h("01a", true, "server"),
                h("01b", false, "post"),
                h("01c", true, "server")
            ]
        );
    }

    /// A held copy with a proof is not replaced by a listing without one (the log not
    /// caught up yet); new receipts from the server are added in time order.
    #[test]
    fn proofs_are_not_lost_and_order_is_kept() {
        let held = vec![h("01b", true, "list")];
        let server = vec![h("01c", false, "server"), h("01b", false, "server")];
        let m = merge(held, &server);
        assert!(m.missing.is_empty());
        assert_eq!(
            m.kept,
            vec![h("01b", true, "list"), h("01c", false, "server")]
        );
    }

    /// Nothing held and nothing listed: nothing kept, nothing missing. Duplicates in
    /// storage are kept once.
    #[test]
    fn empty_and_duplicates() {
        let m = merge::<&str>(Vec::new(), &[]);
        assert!(m.kept.is_empty() && m.missing.is_empty());
        let m = merge(vec![h("01a", false, "x"), h("01a", false, "y")], &[]);
        assert_eq!(m.kept, vec![h("01a", false, "x")]);
        assert_eq!(m.missing, vec![h("01a", false, "x")]);
    }

    /// The copies are bounded: the newest KEPT stay.
    #[test]
    fn bounded() {
        let server: Vec<_> = (0..KEPT + 7)
            .rev()
            .map(|i| Held {
                id: format!("{i:04}"),
                proof: true,
                entry: i,
            })
            .collect();
        let m = merge(Vec::new(), &server);
        assert_eq!(m.kept.len(), KEPT);
        assert_eq!(m.kept[0].id, "0007");
        assert_eq!(m.kept[KEPT - 1].id, format!("{:04}", KEPT + 6));
    }
}
