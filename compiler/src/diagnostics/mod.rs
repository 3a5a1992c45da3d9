//! Diagnostics as data: a stable code, a severity, a message and a span in the user's file.
//! Finding a problem and rendering it are separate: see [`render`].

pub mod formats;
pub mod line_index;
pub mod render;

use std::path::PathBuf;

pub use line_index::LineIndex;

/// A half-open byte range `[start, end)` in one source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
    pub fn empty_at(pos: usize) -> Span {
        Span::new(pos, pos)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One finding. `span` is in the byte offsets of `file`'s text once the finding has been
/// located (query-stage spans are remapped through the rule's query map before that).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Option<PathBuf>,
    pub span: Option<Span>,
    /// Extra lines shown under the message ("help: did you mean ...").
    pub notes: Vec<String>,
    /// A certain fix (`detc lint --fix` applies it).
    pub fix: Option<Box<Fix>>,
}

/// Text edits that fix a finding: each replaces a byte span of the diagnostic's file.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: None,
            span: None,
            notes: Vec::new(),
            fix: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }
    pub fn with_span(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Diagnostic {
        self.file = Some(file.into());
        self
    }
    pub fn with_fix(mut self, title: impl Into<String>, edits: Vec<(Span, String)>) -> Diagnostic {
        self.fix = Some(Box::new(Fix {
            title: title.into(),
            edits,
        }));
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Stable diagnostic codes. The letter prefix names the stage that found the problem.
pub mod codes {
    /// The file could not be read.
    pub const IO: &str = "DT001";
    /// The YAML is not well formed.
    pub const YAML_SYNTAX: &str = "DY001";
    /// The rule does not match the rule schema.
    pub const SCHEMA: &str = "DS001";
    /// A required field is missing.
    pub const SCHEMA_REQUIRED: &str = "DS002";
    /// A key the rule model does not know.
    pub const SCHEMA_UNKNOWN_KEY: &str = "DS003";
    /// KQL lexical error (bad character, unterminated string).
    pub const KQL_LEX: &str = "DK001";
    /// KQL syntax error.
    pub const KQL_SYNTAX: &str = "DK002";
    /// Unknown table.
    pub const UNKNOWN_TABLE: &str = "DR001";
    /// Unknown column.
    pub const UNKNOWN_COLUMN: &str = "DR002";
    /// Unknown function.
    pub const UNKNOWN_FUNCTION: &str = "DR003";
    /// Unknown name (let binding or parameter).
    pub const UNKNOWN_NAME: &str = "DR004";
    /// Wrong number or kind of arguments.
    pub const ARGUMENTS: &str = "DR005";
    /// Type error.
    pub const TYPE: &str = "DR006";
    /// A row function (`prev`, `row_number`, ...) over rows that are not serialized.
    pub const NOT_SERIALIZED: &str = "DR007";
    /// A construct detc parses but cannot lower to its IR yet.
    pub const UNSUPPORTED: &str = "DR100";
    /// A column named by the rule's metadata (entity mappings, custom details, alert
    /// details overrides) is not an output column of its query.
    pub const OUTPUT_COLUMN: &str = "DL001";
    /// A legacy `*CustomEntity` output column that no entity mapping names.
    pub const LEGACY_ENTITY: &str = "DL002";
    /// An entity mapping's identifiers do not fit its entity type.
    pub const ENTITY_IDENTIFIER: &str = "DL003";
    /// An alert format with more than 3 `{{Column}}` placeholders.
    pub const PLACEHOLDERS: &str = "DL004";
    /// A technique belongs to none of the rule's tactics (Sentinel's CI table).
    pub const TECHNIQUE_TACTIC: &str = "DL011";
    /// A string compared with numeric literals, compared as text (a warning).
    pub const NUMBER_AS_TEXT: &str = "DL021";
    /// A string join key case-folded on one side only (a warning).
    pub const ONE_SIDED_CASE: &str = "DL022";
    /// `contains` with a one-word term where `has` may do (a hint, off by default).
    pub const CONTAINS_HINT: &str = "DL023";
    /// A value repeated in one `in`/`has_any` list (a warning).
    pub const DUPLICATE_VALUE: &str = "DL020";
    /// A table the query reads is in no requiredDataConnectors dataTypes.
    pub const CONNECTOR_MISSING: &str = "DL030";
    /// A requiredDataConnectors data type the query never reads (a warning).
    pub const CONNECTOR_UNUSED: &str = "DL031";
    /// Two rule files linted together have the same id.
    pub const DUPLICATE_ID: &str = "DL040";
    /// A character outside ASCII in a rule file (a warning).
    pub const NON_ASCII: &str = "DL060";
    /// `--base`: the detection logic changed but `version` did not increase.
    pub const VERSION_NOT_BUMPED: &str = "DL050";
    /// `--base`: the rule's id changed.
    pub const ID_CHANGED: &str = "DL051";
    /// queryFrequency / queryPeriod outside Sentinel's limits.
    pub const SCHEDULE: &str = "DL070";
    /// A warning: the native evaluator runs this construct as a declared approximation.
    pub const APPROXIMATED: &str = "DR101";
    /// A query parameter (`{{Name}}`) has no value, or a bad one.
    pub const PARAM: &str = "DP001";
    /// Bad fixture data (a row that does not fit the table schema).
    pub const DATA: &str = "DD001";
    /// A table the query reads has no data file.
    pub const MISSING_TABLE: &str = "DD002";
    /// Runtime error during native evaluation.
    pub const EVAL: &str = "DE001";
    /// A target cannot express a construct.
    pub const TARGET_UNSUPPORTED: &str = "DX001";
    pub const TARGET_APPROXIMATED: &str = "DX002";
    pub const FMT: &str = "DF001";
    /// A rule test failed.
    pub const TEST_FAILED: &str = "DT100";
    /// A tests file is malformed.
    pub const TEST_FILE: &str = "DT101";
    /// An engine could not run a query.
    pub const ENGINE: &str = "DV001";
    /// An engine returned rows different from the native run.
    pub const VERIFY_MISMATCH: &str = "DV002";
    /// A `detc.toml` that cannot be read or has a mistake.
    pub const CONFIG: &str = "DC001";
    /// An internal error: detc panicked (a bug). `detc report` records it instead of stopping.
    pub const INTERNAL: &str = "DT999";

    /// A one-line description of each code (SARIF rule descriptions, `detc rule`).
    pub fn describe(code: &str) -> &'static str {
        match code {
            IO => "the file could not be read",
            YAML_SYNTAX => "the YAML is not well formed",
            SCHEMA => "the rule does not match the rule schema",
            SCHEMA_REQUIRED => "a required field is missing",
            SCHEMA_UNKNOWN_KEY => "a key the rule model does not know",
            KQL_LEX => "KQL lexical error",
            KQL_SYNTAX => "KQL syntax error",
            UNKNOWN_TABLE => "unknown table",
            UNKNOWN_COLUMN => "unknown column",
            UNKNOWN_FUNCTION => "unknown function",
            UNKNOWN_NAME => "unknown name",
            ARGUMENTS => "wrong number or kind of arguments",
            TYPE => "type error",
            UNSUPPORTED => "a construct detc cannot lower to its IR yet",
            APPROXIMATED => "the native run approximates this construct (declared)",
            OUTPUT_COLUMN => "a column the rule's metadata names is not in the query's output",
            TECHNIQUE_TACTIC => "a technique belongs to none of the rule's tactics",
            LEGACY_ENTITY => "a legacy *CustomEntity output column that no entity mapping names",
            ENTITY_IDENTIFIER => "an entity mapping's identifiers do not fit its entity type",
            PLACEHOLDERS => "an alert format with more than 3 {{Column}} placeholders",
            DUPLICATE_VALUE => "a value is repeated in one in/has_any list",
            NUMBER_AS_TEXT => "a string compared with a number compares its text",
            ONE_SIDED_CASE => "a join key lower- or upper-cased on one side only",
            CONTAINS_HINT => "contains with a one-word term where has may do (off by default)",
            CONNECTOR_MISSING => {
                "a table the query reads is in no requiredDataConnectors dataTypes"
            }
            CONNECTOR_UNUSED => "a requiredDataConnectors data type the query never reads",
            DUPLICATE_ID => "two rule files linted together have the same id",
            NON_ASCII => "a character outside ASCII in a rule file",
            SCHEDULE => "queryFrequency / queryPeriod outside Sentinel's limits",
            VERSION_NOT_BUMPED => {
                "the detection logic changed since --base but version did not increase"
            }
            ID_CHANGED => "the rule's id changed since --base",
            PARAM => "a query parameter has no value or a bad one",
            DATA => "bad fixture data",
            MISSING_TABLE => "a table the query reads has no data file",
            EVAL => "runtime error in the native run",
            TARGET_UNSUPPORTED => "a target cannot express a construct",
            TARGET_APPROXIMATED => "a target carries a construct only approximately (--strict)",
            FMT => "detc fmt cannot rewrite this file's query safely",
            TEST_FAILED => "a rule test failed",
            TEST_FILE => "a tests file is malformed",
            ENGINE => "an engine could not run a query",
            VERIFY_MISMATCH => "an engine's rows differ from the native run",
            CONFIG => "a detc.toml mistake",
            INTERNAL => "internal error (a bug in detc)",
            _ => "detc diagnostic",
        }
    }
}
