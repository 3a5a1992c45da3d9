//! `detc rule CODE` for the findings of the earlier stages (YAML, schema, KQL syntax, names and
//! types): what each means, why it matters, and an example. The checks of this module's parent
//! carry their own docs.

use super::CheckDoc;
use crate::diagnostics::codes;

pub const DOCS: &[CheckDoc] = &[
    CheckDoc {
        code: codes::YAML_SYNTAX,
        summary: "the file is not well-formed YAML",
        doc: "What: a YAML syntax error (a tab used for indentation, an unclosed quote, a key in a\nplace where a value is expected).\nWhy: nothing else in the file can be checked; Sentinel's CI rejects it too.\nExample:\n  description: 'unclosed\n",
    },
    CheckDoc {
        code: codes::SCHEMA,
        summary: "a value does not match the rule schema",
        doc: "What: a field's value breaks the rule schema generated from detc's rule model (`detc\nschema`): a wrong type, a value outside its enum or limits (severity, tactics, name over 256\ncharacters, a technique id that is not T1234[.001], customDetails keys).\nWhy: Sentinel's CI and Sentinel itself reject such a rule.\nExample:\n  severity: Critical   # DS001: not one of Informational, Low, Medium, High\n",
    },
    CheckDoc {
        code: codes::SCHEMA_REQUIRED,
        summary: "a required field is missing",
        doc: "What: a field the rule's kind requires is absent (every rule: id, name, query; analytic\nrules also severity, queryFrequency, queryPeriod, triggerOperator, triggerThreshold, ...).\nWhy: Sentinel cannot deploy the rule.\nExample: a `kind: Scheduled` rule without `queryPeriod`.\n",
    },
    CheckDoc {
        code: codes::SCHEMA_UNKNOWN_KEY,
        summary: "a key the rule model does not know",
        doc: "What: a key that is not a Sentinel rule field, with a suggestion for near misses.\nWhy: a misspelt key (`entityMapping`) is silently ignored by Sentinel, losing the setting.\nExample:\n  entityMapping:   # DS003: did you mean `entityMappings`?\n",
    },
    CheckDoc {
        code: codes::KQL_LEX,
        summary: "KQL lexical error",
        doc: "What: a character or token KQL does not allow (an unterminated string, a stray\ncharacter).\nWhy: the query does not run.\nExample:\n  | where Name == \"abc\n",
    },
    CheckDoc {
        code: codes::KQL_SYNTAX,
        summary: "KQL syntax error",
        doc: "What: the query does not parse; the message says what was expected and where.\nWhy: the query does not run.\nExample:\n  | distinct Roles,, AccountUPN   # DK002: expected a column, found `,`\n",
    },
    CheckDoc {
        code: codes::UNKNOWN_TABLE,
        summary: "unknown table",
        doc: "What: a table that is neither in detc's shipped schemas (Log Analytics reference,\nSentinel) nor declared in `detc.toml`; a suggestion is shown for near misses.\nWhy: a misspelt table makes a rule that never fires. Declare workspace-specific tables in\ndetc.toml.\nExample:\n  SigninLog | take 1   # DR001: did you mean `SigninLogs`?\n",
    },
    CheckDoc {
        code: codes::UNKNOWN_COLUMN,
        summary: "unknown column",
        doc: "What: a column the table or the previous operator does not have (tracked through every\noperator: a column dropped by `project` is gone).\nWhy: Kusto rejects the query.\nExample:\n  SigninLogs | project UserPrincipalName | where IPAddress == \"1.2.3.4\"   # DR002\n",
    },
    CheckDoc {
        code: codes::UNKNOWN_FUNCTION,
        summary: "unknown function",
        doc: "What: a function detc does not know (nor a let-defined or declared workspace function).\nWhy: Kusto rejects it, or detc cannot check and run the query.\nExample:\n  | extend x = tolowr(Name)   # DR003\n",
    },
    CheckDoc {
        code: codes::UNKNOWN_NAME,
        summary: "unknown name",
        doc: "What: a name that is no column, let binding or parameter in scope.\nWhy: Kusto rejects the query.\nExample:\n  print x = undefined_name   # DR004\n",
    },
    CheckDoc {
        code: codes::ARGUMENTS,
        summary: "wrong number or kind of arguments",
        doc: "What: a function or plugin called with too few or too many arguments, or with a named\nargument it does not take.\nWhy: Kusto rejects the call.\nExample:\n  | extend x = substring(Name)   # DR005\n",
    },
    CheckDoc {
        code: codes::TYPE,
        summary: "type error",
        doc: "What: an operator or function applied to values of the wrong type (a string compared\nwith a bool, a dynamic group key, an invalid regular expression).\nWhy: Kusto rejects the query.\nExample:\n  | where TimeGenerated > \"yesterday\"   # DR006\n",
    },
    CheckDoc {
        code: codes::NOT_SERIALIZED,
        summary: "a row function over rows with no order",
        doc: "What: `prev`, `next`, `row_number`, `row_cumsum` and the other row functions read the\nrows before or after the current one, so their input must be serialized: it must come from\n`sort`, `top` or `serialize`, through `where`, `extend`, `project` or `take` only.\nWhy: Kusto rejects the query (\"the row set must be serialized\").\nExample:\n  | summarize by Account | extend n = row_number()   # DR007: `| serialize` first\n",
    },
    CheckDoc {
        code: codes::UNSUPPORTED,
        summary: "a construct detc cannot lower to its IR yet",
        doc: "What: valid KQL that detc cannot model yet (some evaluate plugins, make-series options); the message names it.\nWhy: detc cannot run, test or translate the rule; Kusto can run it. `detc report` counts\nthese across a repository.\nExample:\n  | evaluate autocluster()   # DR100\n",
    },
    CheckDoc {
        code: codes::NUMBER_AS_TEXT,
        summary: "a string compared with numeric literals (compared as text)",
        doc: "What: a string column compared with numbers (`ResultType in (50074, 50076)`, `== 0`).\nKusto, and detc, compare the number's text with the string.\nWhy: readers take it for a numeric comparison; `050074` or ` 50074` never match. Write\nthe values as strings to say what is meant.\nExample:\n  | where ResultType in (50074, 50076)   # DL021\n",
    },
    CheckDoc {
        code: codes::ONE_SIDED_CASE,
        summary: "a join key lower- or upper-cased on one side only",
        doc: "What: a string join key made with `tolower()`/`toupper()` on one side, and a table's
column as it is on the other.
Why: join keys compare case-sensitively, so values that differ in case never match: a
mixed-case sign-in is missed.
Example:
  IdentityInfo | extend AccountUPN = tolower(AccountUPN)
  | join (SigninLogs) on $left.AccountUPN == $right.UserPrincipalName   # DL022
",
    },
    CheckDoc {
        code: codes::APPROXIMATED,
        summary: "the native run approximates this construct (declared)",
        doc: "What: a construct detc runs natively only approximately (series seasonality\nautodetection, bag_unpack/pivot columns known only at run time, undeclared watchlists);\ndocs/semantics.md says how.\nWhy: rule tests over these constructs may differ from Kusto's results.\nExample:\n  | evaluate bag_unpack(EventData)   # DR101\n",
    },
];
