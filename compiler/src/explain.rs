//! `detc explain`: the IR, then per target whether it carries the plan exactly, with
//! declared approximations, or not at all (and why).

use crate::ir::Node;
use crate::targets::Target;

pub fn explain(plan: &Node) -> String {
    let mut out = String::from("== IR ==\n");
    out.push_str(&crate::ir::print::print(plan));
    out.push_str("\n== targets ==\n");
    for t in Target::all() {
        let line = match t {
            Target::Kql => "exact (canonical KQL; re-parses to the same IR)".to_string(),
            Target::Sigma => match crate::emit::sigma::emit(plan, None, "rule") {
                Ok(o) if o.approximations.is_empty() => "exact".into(),
                Ok(o) => format!(
                    "approximated:\n{}",
                    o.approximations
                        .iter()
                        .map(|a| format!("    - {}: {}", a.construct, a.how))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                Err(u) => format!("unsupported: {u}"),
            },
            Target::Sql(d) => match crate::emit::sql::emit(plan, d) {
                Ok(o) if o.emitted.approximations.is_empty() => "exact".into(),
                Ok(o) => format!(
                    "approximated:\n{}",
                    o.emitted
                        .approximations
                        .iter()
                        .map(|a| format!("    - {}: {}", a.construct, a.how))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                Err(u) => format!("unsupported: {u}"),
            },
        };
        out.push_str(&format!("{}: {line}\n", t.name()));
    }
    out
}
