//! KQL scalar types.

use std::fmt;

/// A KQL scalar type. `int` and `long` are both 64-bit at run time but kept apart so that
/// schemas and printed plans say what the table says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    Timespan,
    Guid,
    Dynamic,
}

impl Type {
    /// Parses a KQL type name or one of the spellings found in table references
    /// (`boolean`, `double`, `int32`, `int64`, `date/time`, ...).
    pub fn parse(name: &str) -> Option<Type> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "bool" | "boolean" => Type::Bool,
            "int" | "int32" | "integer" | "sbyte" | "byte" | "short" | "int16" => Type::Int,
            "long" | "int64" | "bigint" => Type::Long,
            "real" | "double" | "float" => Type::Real,
            "decimal" => Type::Decimal,
            "string" => Type::String,
            "datetime" | "date" | "date/time" => Type::DateTime,
            "timespan" | "time" => Type::Timespan,
            "guid" | "uniqueid" => Type::Guid,
            "dynamic" | "object" => Type::Dynamic,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Long => "long",
            Type::Real => "real",
            Type::Decimal => "decimal",
            Type::String => "string",
            Type::DateTime => "datetime",
            Type::Timespan => "timespan",
            Type::Guid => "guid",
            Type::Dynamic => "dynamic",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Long | Type::Real | Type::Decimal)
    }

    pub fn is_integer(self) -> bool {
        matches!(self, Type::Int | Type::Long)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
