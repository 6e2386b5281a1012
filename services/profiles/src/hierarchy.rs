//! The account hierarchy as a graph: each customer has at most one parent,
//! no customer may become its own ancestor, and no chain from a root down is
//! longer than [`MAX_DEPTH`] customers. The bound is what keeps every walk
//! of the hierarchy (the ancestors read for a batch, the checks here) at most
//! [`MAX_DEPTH`] steps per customer, whatever a tenant sends.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

/// Stored parent links: customer -> parent (None for a root).
pub(crate) type Links = HashMap<Uuid, Option<Uuid>>;

/// Most levels an account hierarchy has: a root and 15 levels under it.
pub(crate) const MAX_DEPTH: usize = 16;

/// Why a parent is refused for being too deep.
pub(crate) fn too_deep() -> String {
    format!("would put the account hierarchy more than {MAX_DEPTH} levels deep")
}

/// Levels from `node` up to its root, `node` included, as far as `parent_of`
/// knows them; past [`MAX_DEPTH`], or at a node `parent_of` cannot place (its
/// ancestors were not read because they are too many), `MAX_DEPTH + 1`.
fn levels(node: Uuid, parent_of: impl Fn(Uuid) -> Option<Option<Uuid>>) -> usize {
    let mut cur = node;
    for level in 1..=MAX_DEPTH {
        match parent_of(cur) {
            Some(None) => return level,
            Some(Some(parent)) => cur = parent,
            None => break,
        }
    }
    MAX_DEPTH + 1
}

/// Levels from `node` (stored, and in `links` with its ancestors) to its root.
pub(crate) fn depth(links: &Links, node: Uuid) -> usize {
    levels(node, |c| links.get(&c).copied())
}

/// True when making `parent` the parent of `child` would make `child` its
/// own ancestor. `links` must hold `parent` and its ancestors.
pub(crate) fn would_cycle(links: &Links, child: Uuid, parent: Uuid) -> bool {
    let mut cur = Some(parent);
    // Bounded by the number of known links, so a corrupt loop cannot hang us.
    for _ in 0..=links.len() {
        match cur {
            None => return false,
            Some(c) if c == child => return true,
            Some(c) => cur = links.get(&c).copied().flatten(),
        }
    }
    true
}

/// One row of a batch setting a customer's parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edge {
    pub child: Uuid,
    pub parent: Option<Uuid>,
    /// When the parent is created by another row of the batch, that row's
    /// position in the edge list: the parent exists only if that row is kept.
    pub parent_row: Option<usize>,
}

/// Why a row of a batch cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Its parent is created by a row that was refused.
    UnknownParent,
    /// Keeping it would make a customer its own ancestor.
    Cycle,
    /// Keeping it would make the hierarchy deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Decides which edges of a batch can be applied over `stored` (which must
/// hold the stored links of every edge's child and parent, and their
/// ancestors up to [`MAX_DEPTH`] levels). Edges are children with their new
/// parents; `initial` holds rows already refused; a refused edge leaves its
/// child as stored. For each cycle, the row with the highest position (the
/// one that closed it) is refused; refusing rows can orphan others or
/// uncover other cycles, so this repeats until nothing changes. Then a row
/// giving its child a new parent is refused if the child would end deeper
/// than [`MAX_DEPTH`] with the levels it heads (`heights`, as stored, 1 when
/// absent) under it.
pub(crate) fn settle(
    stored: &Links,
    edges: &[Edge],
    initial: Vec<Option<Verdict>>,
    heights: &HashMap<Uuid, usize>,
) -> Vec<Option<Verdict>> {
    let mut verdicts = initial;
    loop {
        let mut changed = false;
        for (i, e) in edges.iter().enumerate() {
            if verdicts[i].is_none() && e.parent_row.is_some_and(|j| verdicts[j].is_some()) {
                verdicts[i] = Some(Verdict::UnknownParent);
                changed = true;
            }
        }
        let mut graph: HashMap<Uuid, Uuid> = stored
            .iter()
            .filter_map(|(c, p)| p.map(|p| (*c, p)))
            .collect();
        let mut row_of: HashMap<Uuid, usize> = HashMap::new();
        for (i, e) in edges
            .iter()
            .enumerate()
            .filter(|(i, _)| verdicts[*i].is_none())
        {
            match e.parent {
                Some(p) => graph.insert(e.child, p),
                None => graph.remove(&e.child),
            };
            row_of.insert(e.child, i);
        }
        for closing in cycle_closers(&graph, edges, &row_of) {
            verdicts[closing] = Some(Verdict::Cycle);
            changed = true;
        }
        if !changed {
            for i in too_deep_rows(stored, edges, &verdicts, &graph, heights) {
                verdicts[i] = Some(Verdict::TooDeep);
                changed = true;
            }
        }
        if !changed {
            return verdicts;
        }
    }
}

/// The kept rows that give their child a new parent too deep for it and the
/// levels it heads, in `graph` (stored links with the kept rows applied, no
/// cycles left).
fn too_deep_rows(
    stored: &Links,
    edges: &[Edge],
    verdicts: &[Option<Verdict>],
    graph: &HashMap<Uuid, Uuid>,
    heights: &HashMap<Uuid, usize>,
) -> Vec<usize> {
    // Every customer whose place is known: stored ones read with their
    // ancestors, and the batch's own.
    let known: HashSet<Uuid> = stored
        .keys()
        .copied()
        .chain(edges.iter().map(|e| e.child))
        .collect();
    let parent_of = |c: Uuid| known.contains(&c).then(|| graph.get(&c).copied());
    edges
        .iter()
        .enumerate()
        .filter(|(i, e)| verdicts[*i].is_none() && stored.get(&e.child) != Some(&e.parent))
        .filter_map(|(i, e)| {
            let below = heights.get(&e.child).copied().unwrap_or(1);
            let above = e.parent.map_or(0, |p| levels(p, parent_of));
            (above + below > MAX_DEPTH).then_some(i)
        })
        .collect()
}

/// For every cycle in `graph` that runs through a batch row, the highest row
/// position on it.
fn cycle_closers(
    graph: &HashMap<Uuid, Uuid>,
    edges: &[Edge],
    row_of: &HashMap<Uuid, usize>,
) -> Vec<usize> {
    // Walk number that first reached each node; walks never revisit nodes
    // finished by earlier walks, so the whole pass is linear.
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    let mut closers = Vec::new();
    for (walk, e) in edges.iter().enumerate() {
        if !row_of.contains_key(&e.child) {
            continue;
        }
        let mut path = Vec::new();
        let mut cur = e.child;
        loop {
            if let Some(&w) = seen.get(&cur) {
                if w == walk {
                    let start = path.iter().position(|n| *n == cur).unwrap_or(0);
                    if let Some(max) = path[start..].iter().filter_map(|n| row_of.get(n)).max() {
                        closers.push(*max);
                    }
                }
                break;
            }
            seen.insert(cur, walk);
            path.push(cur);
            match graph.get(&cur) {
                Some(next) => cur = *next,
                None => break,
            }
        }
    }
    closers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::new_v4()).collect()
    }

    fn settle(
        stored: &Links,
        edges: &[Edge],
        initial: Vec<Option<Verdict>>,
    ) -> Vec<Option<Verdict>> {
        super::settle(stored, edges, initial, &HashMap::new())
    }

    /// A batch making `n` customers, each under the one before.
    fn chain(n: &[Uuid]) -> Vec<Edge> {
        (0..n.len())
            .map(|i| Edge {
                child: n[i],
                parent: i.checked_sub(1).map(|j| n[j]),
                parent_row: i.checked_sub(1),
            })
            .collect()
    }

    #[test]
    fn a_batch_may_build_sixteen_levels_and_no_more() {
        let n = ids(MAX_DEPTH + 2);
        let v = settle(&Links::new(), &chain(&n), vec![None; n.len()]);
        assert!(v[..MAX_DEPTH].iter().all(Option::is_none), "{v:?}");
        assert_eq!(v[MAX_DEPTH..], [Some(Verdict::TooDeep); 2]);
    }

    #[test]
    fn moving_a_customer_counts_the_levels_it_heads() {
        let n = ids(MAX_DEPTH);
        // A stored chain of 15: n0 at the root, n14 at the bottom.
        let mut stored: Links = (1..MAX_DEPTH - 1).map(|i| (n[i], Some(n[i - 1]))).collect();
        stored.insert(n[0], None);
        stored.insert(n[MAX_DEPTH - 1], None);
        assert_eq!(depth(&stored, n[MAX_DEPTH - 2]), MAX_DEPTH - 1);
        let moved = edge(n[MAX_DEPTH - 1], Some(n[MAX_DEPTH - 2]));
        // Alone it fits at level 16; heading one level more it does not.
        let alone = super::settle(&stored, &[moved], vec![None], &HashMap::new());
        assert_eq!(alone, [None]);
        let heads_two: HashMap<Uuid, usize> = [(n[MAX_DEPTH - 1], 2)].into();
        let v = super::settle(&stored, &[moved], vec![None], &heads_two);
        assert_eq!(v, [Some(Verdict::TooDeep)]);
        // An unchanged link is not checked again.
        let stays = edge(n[1], Some(n[0]));
        assert_eq!(
            super::settle(&stored, &[stays], vec![None], &heads_two),
            [None]
        );
        // Ancestors that were not read (too many to read) are too deep.
        let cut: Links = [(n[0], Some(n[1]))].into();
        assert_eq!(depth(&cut, n[0]), MAX_DEPTH + 1);
    }

    fn edge(child: Uuid, parent: Option<Uuid>) -> Edge {
        Edge {
            child,
            parent,
            parent_row: None,
        }
    }

    #[test]
    fn single_update_cycles() {
        let n = ids(3);
        let links: Links = [(n[0], Some(n[1])), (n[1], Some(n[2])), (n[2], None)].into();
        assert!(would_cycle(&links, n[2], n[0]));
        assert!(would_cycle(&links, n[0], n[0]));
        assert!(!would_cycle(&links, n[0], n[2]));
    }

    #[test]
    fn the_row_closing_a_cycle_is_refused() {
        let n = ids(3);
        let edges = [
            edge(n[0], Some(n[1])),
            edge(n[1], Some(n[2])),
            edge(n[2], Some(n[0])),
        ];
        let v = settle(&Links::new(), &edges, vec![None; 3]);
        assert_eq!(v, [None, None, Some(Verdict::Cycle)]);
        let own = settle(&Links::new(), &[edge(n[0], Some(n[0]))], vec![None]);
        assert_eq!(own, [Some(Verdict::Cycle)]);
    }

    #[test]
    fn stored_links_take_part() {
        let n = ids(2);
        // n1 already sits under n0; putting n0 under n1 closes a loop.
        let stored: Links = [(n[1], Some(n[0])), (n[0], None)].into();
        assert_eq!(
            settle(&stored, &[edge(n[0], Some(n[1]))], vec![None]),
            [Some(Verdict::Cycle)]
        );
        // Moving n1 away in the same batch makes it fine.
        let v = settle(
            &stored,
            &[edge(n[0], Some(n[1])), edge(n[1], None)],
            vec![None; 2],
        );
        assert_eq!(v, [None, None]);
    }

    #[test]
    fn refusals_propagate_to_children_and_uncover_cycles() {
        let n = ids(3);
        // Row 1 is refused (cycle with row 0), so row 2, whose parent row 1
        // would have created, has no parent.
        let edges = [
            edge(n[0], Some(n[1])),
            Edge {
                child: n[1],
                parent: Some(n[0]),
                parent_row: None,
            },
            Edge {
                child: n[2],
                parent: Some(n[1]),
                parent_row: Some(1),
            },
        ];
        let v = settle(&Links::new(), &edges, vec![None; 3]);
        assert_eq!(
            v,
            [None, Some(Verdict::Cycle), Some(Verdict::UnknownParent)]
        );

        // Stored x -> y. The batch moves x under q, q under x (a cycle,
        // q's row closes it) and y under x. Refusing q's row is enough.
        let (x, y, q) = (n[0], n[1], n[2]);
        let stored: Links = [(x, Some(y)), (y, None), (q, None)].into();
        let edges = [edge(x, Some(q)), edge(q, Some(x)), edge(y, Some(x))];
        let v = settle(&stored, &edges, vec![None; 3]);
        assert_eq!(v, [None, Some(Verdict::Cycle), None]);
    }

    #[test]
    fn rows_refused_up_front_orphan_their_children() {
        let n = ids(2);
        let edges = [
            edge(n[0], None),
            Edge {
                child: n[1],
                parent: Some(n[0]),
                parent_row: Some(0),
            },
        ];
        let v = settle(
            &Links::new(),
            &edges,
            vec![Some(Verdict::UnknownParent), None],
        );
        assert_eq!(
            v,
            [Some(Verdict::UnknownParent), Some(Verdict::UnknownParent)]
        );
    }
}
