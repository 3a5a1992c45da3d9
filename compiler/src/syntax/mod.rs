//! Stage 2: KQL text -> syntax tree with spans. A hand-written lexer and a recursive-descent
//! parser that recovers at `|`, `;` and closing brackets, so one run reports every error.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::parse;
