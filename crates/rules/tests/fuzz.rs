//! Seeded random inputs: compile never panics on junk, and generated well-typed programs
//! always compile and never panic when evaluated.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_rules::{Activation, Env, EvalErrorKind, Limits, Type, Value};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn env() -> Env {
    Env::new()
        .variable("n", Type::Int)
        .variable("d", Type::Double)
        .variable("s", Type::String)
        .variable("xs", Type::list(Type::Int))
        .variable("m", Type::map(Type::String, Type::Int))
        .variable("x", Type::Dyn)
        .limits(Limits {
            max_cost: 20_000,
            ..Limits::default()
        })
}

fn activation() -> Activation {
    let mut a = Activation::new();
    a.bind("n", Value::Int(-7))
        .bind("d", Value::Double(2.5))
        .bind("s", Value::from("Hello"))
        .bind(
            "xs",
            Value::list([0, 1, i64::MAX, i64::MIN].map(Value::Int)),
        )
        .bind(
            "m",
            Value::map([("a".into(), Value::Int(1)), ("b".into(), Value::Int(0))]),
        )
        .bind("x", Value::list([Value::Int(1), Value::from("two")]));
    a
}

#[test]
fn random_bytes_never_panic_the_compiler() {
    let env = env();
    let mut rng = rng(11);
    for _ in 0..5000 {
        let len = rng.random_range(0..80);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.random_bool(0.8) {
                    rng.random_range(0x20..0x7f)
                } else {
                    rng.random()
                }
            })
            .collect();
        let src = String::from_utf8_lossy(&bytes);
        if let Ok(p) = env.compile(&src) {
            let _ = p.evaluate(&activation());
        }
    }
}

const SOUP: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ".",
    ",",
    ":",
    "?",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "in",
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "1u",
    "0u",
    "1.5",
    "0.0",
    "1e308",
    "'s'",
    "''",
    "r'\\'",
    "true",
    "false",
    "null",
    "n",
    "d",
    "s",
    "xs",
    "m",
    "x",
    "v",
    "size",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "int",
    "uint",
    "double",
    "string",
    "dyn",
    "contains",
    "startsWith",
    "lowerAscii",
    "trim",
    "a",
];

#[test]
fn token_soups_never_panic() {
    let env = env();
    let a = activation();
    let mut rng = rng(12);
    let mut compiled = 0;
    for _ in 0..20_000 {
        let len = rng.random_range(1..40);
        let src: Vec<&str> = (0..len)
            .map(|_| SOUP[rng.random_range(0..SOUP.len())])
            .collect();
        let src = src.join(if rng.random_bool(0.5) { " " } else { "" });
        if let Ok(p) = env.compile(&src) {
            compiled += 1;
            let _ = p.evaluate(&a);
        }
    }
    // The soup is not all rejected at the door: some of it reaches the evaluator.
    assert!(compiled > 100, "only {compiled} compiled");
}

/// Generates source text of a well-typed expression of a given type.
struct Gen {
    rng: StdRng,
    /// Int-typed comprehension variables in scope.
    locals: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum T {
    Int,
    Double,
    Bool,
    Str,
    IntList,
}

impl Gen {
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.rng.random_range(0..options.len())]
    }

    fn int_literal(&mut self) -> String {
        match self.rng.random_range(0..6) {
            0 => "9223372036854775807".into(),
            1 => "-9223372036854775808".into(),
            2 => "0".into(),
            _ => self.rng.random_range(-20i64..20).to_string(),
        }
    }

    /// `(l op r)` with operands of types `l` and `r` one level down.
    fn infix(&mut self, l: T, op: &str, r: T, depth: u32) -> String {
        let (l, r) = self.pair(l, r, depth);
        format!("({l} {op} {r})")
    }

    /// Operands of types `l` and `r` one level down, generated in that order.
    fn pair(&mut self, l: T, r: T, depth: u32) -> (String, String) {
        (self.expr(l, depth - 1), self.expr(r, depth - 1))
    }

    fn expr(&mut self, t: T, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.random_bool(0.25);
        match t {
            T::Int if leaf => {
                if !self.locals.is_empty() && self.rng.random_bool(0.4) {
                    let i = self.rng.random_range(0..self.locals.len());
                    self.locals[i].clone()
                } else if self.rng.random_bool(0.3) {
                    "n".into()
                } else {
                    self.int_literal()
                }
            }
            T::Int => match self.rng.random_range(0..7) {
                0..=2 => {
                    let op = self.pick(&["+", "-", "*", "/", "%"]);
                    self.infix(T::Int, op, T::Int, depth)
                }
                3 => format!("int({})", self.expr(T::Double, depth - 1)),
                4 => format!("{}.size()", self.expr(T::Str, depth - 1)),
                5 => {
                    let (l, r) = self.pair(T::IntList, T::Int, depth);
                    format!("{l}[{r}]")
                }
                _ => format!(
                    "({} ? {} : {})",
                    self.expr(T::Bool, depth - 1),
                    self.expr(T::Int, depth - 1),
                    self.expr(T::Int, depth - 1)
                ),
            },
            T::Double if leaf => self.pick(&["d", "1.5", "-0.0", "1e308", "0.0"]).into(),
            T::Double => match self.rng.random_range(0..3) {
                0 => {
                    let op = self.pick(&["+", "-", "*", "/"]);
                    self.infix(T::Double, op, T::Double, depth)
                }
                1 => format!("double({})", self.expr(T::Int, depth - 1)),
                _ => format!("-{}", self.expr(T::Double, depth - 1)),
            },
            T::Bool if leaf => self
                .pick(&["true", "false", "has(m.a)", "('z' in m)"])
                .into(),
            T::Bool => match self.rng.random_range(0..7) {
                0 => {
                    let op = self.pick(&["&&", "||"]);
                    self.infix(T::Bool, op, T::Bool, depth)
                }
                1 => format!("!{}", self.expr(T::Bool, depth - 1)),
                2 => {
                    let op = self.pick(&["<", "<=", ">", ">=", "==", "!="]);
                    let (l, r) = (self.num(), self.num());
                    self.infix(l, op, r, depth)
                }
                3 => self.infix(T::Int, "in", T::IntList, depth),
                4 => {
                    let (l, r) = self.pair(T::Str, T::Str, depth);
                    format!("{l}.contains({r})")
                }
                _ => self.comprehension(&["all", "exists", "exists_one"], depth),
            },
            T::Str if leaf => self.pick(&["s", "''", "'abc'", "'É'"]).into(),
            T::Str => match self.rng.random_range(0..3) {
                0 => self.infix(T::Str, "+", T::Str, depth),
                1 => format!("string({})", self.expr(T::Int, depth - 1)),
                _ => format!("{}.upperAscii()", self.expr(T::Str, depth - 1)),
            },
            T::IntList if leaf => self.pick(&["xs", "[]", "[1, 2, 3]"]).into(),
            T::IntList => match self.rng.random_range(0..3) {
                0 => self.infix(T::IntList, "+", T::IntList, depth),
                1 => {
                    let (l, r) = self.pair(T::Int, T::Int, depth);
                    format!("[{l}, {r}]")
                }
                _ => self.comprehension(&["map", "filter"], depth),
            },
        }
    }

    /// One of the macros `names` over a generated int list, with a fresh
    /// variable in scope for its body (an int for `map`, a bool otherwise).
    fn comprehension(&mut self, names: &[&str], depth: u32) -> String {
        let f = self.pick(names);
        let list = self.expr(T::IntList, depth - 1);
        let var = format!("v{}", self.locals.len());
        self.locals.push(var.clone());
        let body = self.expr(if f == "map" { T::Int } else { T::Bool }, depth - 1);
        self.locals.pop();
        format!("{list}.{f}({var}, {body})")
    }

    fn num(&mut self) -> T {
        if self.rng.random_bool(0.5) {
            T::Int
        } else {
            T::Double
        }
    }
}

fn matches_type(t: T, v: &Value) -> bool {
    matches!(
        (t, v),
        (T::Int, Value::Int(_))
            | (T::Double, Value::Double(_))
            | (T::Bool, Value::Bool(_))
            | (T::Str, Value::String(_))
            | (T::IntList, Value::List(_))
    )
}

#[test]
fn random_well_typed_programs_compile_and_evaluate_without_panics() {
    let env = env();
    let a = activation();
    let mut g = Gen {
        rng: rng(13),
        locals: Vec::new(),
    };
    let (mut ok, mut failed) = (0, 0);
    for i in 0..3000 {
        let t = [T::Int, T::Double, T::Bool, T::Str, T::IntList][i % 5];
        let depth = g.rng.random_range(1..6);
        let src = g.expr(t, depth);
        let program = match env.compile(&src) {
            Ok(p) => p,
            Err(e) if e.kind == rapport_rules::CompileErrorKind::Limit => continue,
            Err(e) => panic!("{src}: {e}"),
        };
        match program.evaluate(&a) {
            Ok(v) => {
                assert!(matches_type(t, &v), "{src} gave {v:?}, wanted {t:?}");
                ok += 1;
            }
            Err(e) => {
                assert_ne!(e.kind, EvalErrorKind::TypeMismatch, "{src}: {e}");
                failed += 1;
            }
        }
    }
    assert!(ok > 1000 && failed > 10, "ok {ok}, failed {failed}");
}
