//! The absorbing chain's win probabilities: `(I − Q) b = r` over the stages
//! that have exits and reach a close, by Gaussian elimination.

/// Per stage, the probability of ending won, or `None` for a stage that no
/// stay has left, or from which no path reaches won or lost (its row of
/// `I − Q` would make the system singular). Such stages stand in with
/// `fallback` where others move into them.
pub(super) fn absorption(
    to_stage: &[Vec<u32>],
    to_won: &[u32],
    exits: &[u32],
    fallback: f64,
) -> Vec<Option<f64>> {
    let n = exits.len();
    // A stage without exits counts as reaching a close: it stands in with
    // the fallback, a known value.
    let mut reaches: Vec<bool> = (0..n)
        .map(|i| exits[i] == 0 || exits[i] > to_stage[i].iter().sum::<u32>())
        .collect();
    // Bounded: each round marks at least one more stage or stops.
    for _ in 0..n {
        let mut changed = false;
        for i in 0..n {
            if !reaches[i] && (0..n).any(|j| to_stage[i][j] > 0 && reaches[j]) {
                reaches[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let solved: Vec<usize> = (0..n).filter(|&i| exits[i] > 0 && reaches[i]).collect();
    let index = |j: usize| solved.iter().position(|&s| s == j);
    let m = solved.len();
    // Rows of the augmented matrix [I − Q | r + Σ Q·fallback].
    let mut a = vec![vec![0.0f64; m + 1]; m];
    for (row, &i) in solved.iter().enumerate() {
        let total = f64::from(exits[i]);
        a[row][row] = 1.0;
        a[row][m] = f64::from(to_won[i]) / total;
        for (j, &moves) in to_stage[i].iter().enumerate() {
            let q = f64::from(moves) / total;
            if q == 0.0 {
                continue;
            }
            match index(j) {
                Some(col) => a[row][col] -= q,
                None => a[row][m] += q * fallback,
            }
        }
    }
    let b = eliminate(a);
    let mut out = vec![None; n];
    for (row, &i) in solved.iter().enumerate() {
        out[i] = b.as_ref().map(|b| b[row].clamp(0.0, 1.0));
    }
    out
}

/// Solves the augmented system by elimination with partial pivoting;
/// `None` if it is singular (it is not, for stages that reach a close).
fn eliminate(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let m = a.len();
    for col in 0..m {
        let pivot = (col..m).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..m {
            if row != col {
                let f = a[row][col] / a[col][col];
                if f != 0.0 {
                    let pivot_row = a[col].clone();
                    for (x, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                        *x -= f * p;
                    }
                }
            }
        }
    }
    Some((0..m).map(|i| a[i][m] / a[i][i]).collect())
}
