//! KQL's string predicates. Case-insensitive operators fold with Unicode simple lowercasing;
//! a term is a maximal run of alphanumeric characters (docs/semantics.md).

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Case folding used by every case-insensitive operator.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// `hay has needle`: some occurrence of `needle` whose alphanumeric ends are not glued to
/// alphanumeric characters of `hay`. Both arguments must already be folded for `has`.
pub fn has_term(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let first_alnum = needle.chars().next().is_some_and(is_term_char);
    let last_alnum = needle.chars().next_back().is_some_and(is_term_char);
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = !first_alnum || !hay[..start].chars().next_back().is_some_and(is_term_char);
        let after_ok = !last_alnum || !hay[end..].chars().next().is_some_and(is_term_char);
        if before_ok && after_ok {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, |c| c.len_utf8());
    }
    false
}

/// `hasprefix`: some term of `hay` starts with `needle`.
pub fn has_prefix(hay: &str, needle: &str) -> bool {
    terms(hay).any(|t| t.starts_with(needle))
}

/// `hassuffix`: some term of `hay` ends with `needle`.
pub fn has_suffix(hay: &str, needle: &str) -> bool {
    terms(hay).any(|t| t.ends_with(needle))
}

fn terms(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !is_term_char(c))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_terms() {
        assert!(has_term("mfa required", "mfa"));
        assert!(!has_term("nomfa required", "mfa"));
        assert!(has_term("use second factor now", "second factor"));
        assert!(!has_term("use second  factor", "second factor"));
        assert!(has_term("multi-factor auth", "multi-factor"));
        assert!(!has_term("multifactor", "multi-factor"));
        assert!(has_term("_hello_world_", "hello")); // underscore is a delimiter
        assert!(has_term("a b", "a")); // short terms are not special
        assert!(has_term("x (mfa).", "(mfa)"));
        assert!(!has_term("kustoexplorer", "explorer"));
        assert!(has_prefix("north america", "ame"));
        assert!(!has_prefix("north america", "mer"));
        assert!(has_suffix("north america", "ica"));
    }
}
