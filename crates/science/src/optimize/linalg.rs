//! Small dense linear algebra for the optimiser: finite-difference Hessians and Cholesky.

/// Hessian by central differences of the analytic gradient, symmetrised.
pub(crate) fn hessian<F, const N: usize>(objective: &mut F, x: &[f64; N]) -> [[f64; N]; N]
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    let mut columns = [[0.0; N]; N];
    for (j, column) in columns.iter_mut().enumerate() {
        // Balances truncation (h²) against rounding (ε/h) for gradients of unit scale.
        let h = 1e-5 * x[j].abs().max(1.0);
        let mut up = *x;
        let mut down = *x;
        up[j] += h;
        down[j] -= h;
        let mut g_up = [0.0; N];
        let mut g_down = [0.0; N];
        objective(&up, &mut g_up);
        objective(&down, &mut g_down);
        for i in 0..N {
            column[i] = (g_up[i] - g_down[i]) / (2.0 * h);
        }
    }
    std::array::from_fn(|i| std::array::from_fn(|j| 0.5 * (columns[i][j] + columns[j][i])))
}

/// Lower-triangular Cholesky factor, or `None` when the matrix is not positive definite.
pub(crate) fn cholesky<const N: usize>(m: &[[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut l = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = m[i][i] - sum;
                if d.is_nan() || d <= 0.0 || d.is_infinite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (m[i][j] - sum) / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solve `L Lᵀ x = b` given the Cholesky factor `L`.
pub(crate) fn cholesky_solve<const N: usize>(l: &[[f64; N]; N], b: &[f64; N]) -> [f64; N] {
    let mut y = [0.0; N];
    for i in 0..N {
        let sum: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - sum) / l[i][i];
    }
    let mut x = [0.0; N];
    for i in (0..N).rev() {
        let sum: f64 = (i + 1..N).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - sum) / l[i][i];
    }
    x
}

/// Diagonal of the inverse of a positive-definite matrix, or `None` if it is not one.
pub(crate) fn inverse_diagonal<const N: usize>(m: &[[f64; N]; N]) -> Option<[f64; N]> {
    let l = cholesky(m)?;
    let mut diagonal = [0.0; N];
    for (i, d) in diagonal.iter_mut().enumerate() {
        let mut unit = [0.0; N];
        unit[i] = 1.0;
        *d = cholesky_solve(&l, &unit)[i];
    }
    diagonal
        .iter()
        .all(|d| d.is_finite() && *d > 0.0)
        .then_some(diagonal)
}

/// The symmetric matrix whose upper triangle (diagonal included) is that of `m`.
pub(crate) fn mirror_upper<const N: usize>(m: &[[f64; N]; N]) -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if j < i { m[j][i] } else { m[i][j] }))
}
