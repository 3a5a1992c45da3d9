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

/// Constant `has_any`/`has_all` terms, matched in one pass over the text (Aho-Corasick,
/// every occurrence of every term) with the same term-boundary rule as [`has_term`].
pub struct TermSet {
    ac: aho_corasick::AhoCorasick,
    /// Per term: whether its first and its last character are term characters.
    ends: Vec<(bool, bool)>,
    cs: bool,
}

impl TermSet {
    /// `needles` are folded already when `cs` is false.
    pub fn new(needles: &[String], cs: bool) -> Option<TermSet> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(!cs)
            .build(needles)
            .ok()?;
        let ends = needles
            .iter()
            .map(|n| {
                (
                    n.chars().next().is_some_and(is_term_char),
                    n.chars().next_back().is_some_and(is_term_char),
                )
            })
            .collect();
        Some(TermSet { ac, ends, cs })
    }

    /// `any`: some term occurs as a term; otherwise every term does.
    pub fn matches(&self, hay: &str, any: bool) -> bool {
        // ASCII text needs no folding: the automaton ignores ASCII case.
        let folded;
        let hay = if self.cs || hay.is_ascii() {
            hay
        } else {
            folded = fold(hay);
            &folded
        };
        let n = self.ends.len();
        let mut seen = vec![false; if any { 0 } else { n }];
        let mut left = n;
        for m in self.ac.find_overlapping_iter(hay) {
            let (first, last) = self.ends[m.pattern().as_usize()];
            let before_ok = !first
                || !hay[..m.start()]
                    .chars()
                    .next_back()
                    .is_some_and(is_term_char);
            let after_ok = !last || !hay[m.end()..].chars().next().is_some_and(is_term_char);
            if !(before_ok && after_ok) {
                continue;
            }
            if any {
                return true;
            }
            let p = m.pattern().as_usize();
            if !seen[p] {
                seen[p] = true;
                left -= 1;
                if left == 0 {
                    return true;
                }
            }
        }
        !any && left == 0
    }
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

    #[test]
    fn term_sets_agree_with_has_term() {
        let needles: Vec<String> = ["mfa", "second factor", "multi-factor", "", "ä", "a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let hays = [
            "MFA required",
            "nomfa",
            "Use Second Factor now",
            "multifactor",
            "MULTI-FACTOR!",
            "Ä b",
            "xäy",
            "",
            "(mfa)",
            "mfa_x",
            "aa",
        ];
        for cs in [false, true] {
            for i in 0..needles.len() {
                for j in i..=needles.len() {
                    let set: Vec<String> = needles[i..j]
                        .iter()
                        .map(|n| if cs { n.clone() } else { fold(n) })
                        .collect();
                    let terms = TermSet::new(&set, cs).unwrap();
                    for hay in hays {
                        let h = if cs { hay.to_string() } else { fold(hay) };
                        let any = set.iter().any(|n| has_term(&h, n));
                        let all = set.iter().all(|n| has_term(&h, n));
                        assert_eq!(terms.matches(hay, true), any, "any {set:?} {hay:?} cs={cs}");
                        assert_eq!(
                            terms.matches(hay, false),
                            all,
                            "all {set:?} {hay:?} cs={cs}"
                        );
                    }
                }
            }
        }
    }
}
