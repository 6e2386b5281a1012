//! Rapport's rules language: the conditions business people write over a customer's
//! scores, e.g.
//!
//! ```text
//! score.monthly_profit > 500.0 && score.purchases_per_month > 5.0 && change.frequency_drop > 0.3
//! ```
//!
//! It is a subset of [CEL](https://github.com/google/cel-spec) (Common Expression
//! Language) with CEL's syntax and semantics, a static type checker that rejects mistakes
//! before a rule is saved, and a sandbox: a rule can only read the variables it is given
//! and can never run for long, grow without bound, or touch the host.
//!
//! # Writing rules
//!
//! **Values and literals**
//! - numbers: `int` (`42`, `-7`, `0x1F`), `uint` (`42u`), `double` (`42.0`, `1.5`, `1e3`)
//! - strings: `'north'` or `"north"`, escapes such as `\n`, `\t`, `\u00e9`; raw `r'\d'`;
//!   triple-quoted `'''...'''`
//! - `true`, `false`, `null`; lists `['gold', 'silver']`; maps `{'gold': 3, 'silver': 2}`
//!
//! **Operators**, loosest first: `c ? a : b`, `||`, `&&`,
//! `== != < <= > >= in`, `+ -`, `* / %`, then `!` and unary `-`, then `.field`, `[index]`
//! and calls. Parentheses group.
//!
//! **Numbers are never converted implicitly.** `score.monthly_profit > 500` compares fine
//! (comparisons work across `int`, `uint` and `double`), but `score.monthly_profit + 500`
//! is refused: write `500.0`, or convert with `double(...)`. Integer arithmetic that
//! overflows, and integer division or modulo by zero, are errors; `double` follows IEEE
//! (`1.0 / 0.0` is infinity).
//!
//! **`&&` and `||`** ignore an error on one side when the other side decides the result,
//! in either order: `false && customer.attributes.region == 'x'` is `false` even if the
//! customer has no region.
//!
//! **Functions**
//! - `size(x)` / `x.size()` for strings (in characters), lists and maps
//! - strings: `s.contains('a')`, `s.startsWith('a')`, `s.endsWith('a')`, `s.lowerAscii()`,
//!   `s.upperAscii()`, `s.trim()`
//! - conversions with range checks: `int(x)`, `uint(x)`, `double(x)`, `string(x)`,
//!   `bool('true')`, and `dyn(x)` to defer type checks to run time
//!
//! **Lists and maps**: `'vip' in customer.tags`, `customer.tags[0]`,
//! `customer.attributes['region']`, `customer.attributes.region`, and the macros
//! `has(customer.attributes.region)`, `list.all(x, p)`, `list.exists(x, p)`,
//! `list.exists_one(x, p)`, `list.map(x, f)`, `list.map(x, p, f)`, `list.filter(x, p)`.
//! On a map the macros range over its keys.
//!
//! Reading a missing map key is an error; test first with `has(...)` or `'key' in map`:
//! `has(customer.attributes.region) && customer.attributes.region == 'north'`.
//!
//! # What is refused
//! - unknown variables and fields, with a suggestion:
//!   `line 1, column 7: type 'Score' has no field 'montly_profit' (did you mean 'monthly_profit'?)`
//! - values of the wrong type: `score.tier == 1`, `score.monthly_profit + 500`
//! - any function not listed above. There is nothing that reads files, the environment,
//!   the clock or the network: `system('ls')`, `env('HOME')` and `http.get(...)` do not
//!   compile.
//! - regular expressions (`matches`): their cost cannot be bounded here; use `contains`,
//!   `startsWith` or `endsWith`.
//! - the CEL features not implemented: bytes, timestamps and durations, `type()`,
//!   message construction, optional values and the string formatting extensions.
//!
//! # Limits
//! [`Limits`] bounds the source length, nesting depth and size of a rule when it is
//! compiled, and the work (every step costs at least 1; string work costs by length;
//! comprehensions cost per element) and the size of the strings and lists it builds when
//! it runs. Running out is an error ([`CompileErrorKind::Limit`],
//! [`EvalErrorKind::CostExceeded`], [`EvalErrorKind::LimitExceeded`]), never a hang or a
//! crash.
//!
//! # Example
//! ```
//! use rapport_rules::{Activation, Env, ObjectType, Type, Value};
//!
//! let score = ObjectType::new("Score")
//!     .field("monthly_profit", Type::Double)
//!     .field("tier", Type::String);
//! let env = Env::new().variable("score", Type::object(score));
//!
//! let rule = env
//!     .compile_condition("score.monthly_profit > 500.0 && score.tier in ['gold', 'platinum']")
//!     .unwrap();
//! assert_eq!(
//!     rule.references().into_iter().collect::<Vec<_>>(),
//!     ["score.monthly_profit", "score.tier"]
//! );
//!
//! let mut activation = Activation::new();
//! activation.bind(
//!     "score",
//!     Value::object([("monthly_profit", Value::from(812.5)), ("tier", Value::from("gold"))]),
//! );
//! assert!(rule.evaluate_bool(&activation).unwrap());
//!
//! let typo = env.compile_condition("score.montly_profit > 500.0").unwrap_err();
//! assert_eq!(
//!     typo.to_string(),
//!     "line 1, column 7: type 'Score' has no field 'montly_profit' (did you mean 'monthly_profit'?)"
//! );
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ast;
mod checker;
mod env;
mod error;
mod eval;
mod lexer;
mod limits;
mod parser;
mod program;
mod suggest;
mod types;
mod value;

pub use env::Env;
pub use error::{CompileError, CompileErrorKind, EvalError, EvalErrorKind};
pub use limits::Limits;
pub use program::Program;
pub use types::{ObjectType, Type};
pub use value::{Activation, MapKey, Value};
