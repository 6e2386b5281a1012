//! The bounds a rule is compiled and run under, shared by the parser, the
//! evaluator and the [`Env`](crate::Env) that carries them.

/// Bounds on what a rule may be and do. Compile-time bounds stop hostile text early;
/// runtime bounds stop a well-formed rule from running long or building huge values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted source, in bytes.
    pub max_source_len: usize,
    /// Deepest nesting of parentheses, brackets, prefix operators and sub-expressions.
    /// Values above 50 are treated as 50, and no rule's syntax tree
    /// may be more than 200 levels tall (`&&`/`||` chains are balanced, so they rarely are).
    pub max_depth: usize,
    /// Most syntax-tree nodes a rule may have.
    pub max_nodes: usize,
    /// Evaluation budget: every evaluated node costs at least 1, strings cost by length,
    /// comprehensions by element.
    pub max_cost: u64,
    /// Longest string an evaluation may build, in bytes.
    pub max_string_len: usize,
    /// Longest list (or largest map) an evaluation may build.
    pub max_list_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_source_len: 4096,
            max_depth: 32,
            max_nodes: 1000,
            max_cost: 100_000,
            max_string_len: 65_536,
            max_list_len: 10_000,
        }
    }
}
