//! Stage 5: IR -> target text. Structure, precedence and quoting live here in Rust; the
//! templates in `targets/` only wrap a finished query in its document.

pub mod kql;
pub mod sigma;
pub mod sql;
pub mod sql_core;
pub mod sql_funcs;

/// A construct a target cannot express exactly, with what the output does instead.
#[derive(Clone, Debug, PartialEq)]
pub struct Approximation {
    pub construct: String,
    pub how: String,
}

impl Approximation {
    /// Adds an approximation to `list` unless it is there already (each is declared once).
    pub fn declare(list: &mut Vec<Approximation>, construct: &str, how: &str) {
        let a = Approximation {
            construct: construct.into(),
            how: how.into(),
        };
        if !list.contains(&a) {
            list.push(a);
        }
    }
}

/// Why a target cannot emit a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    pub construct: String,
    pub reason: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.construct, self.reason)
    }
}

/// A target's output: the query text and the approximations it declares.
#[derive(Clone, Debug, PartialEq)]
pub struct Emitted {
    pub text: String,
    pub approximations: Vec<Approximation>,
}
