//! The typed rule model: Microsoft Sentinel analytic rules (`kind: Scheduled`, `kind: NRT`) and
//! hunting queries (no `kind`), as they are written in YAML in the Azure-Sentinel repository.
//!
//! Two views of one model:
//! - the serde types load a rule permissively (unknown keys are ignored, `null` collections are
//!   empty, `null` list items are dropped) so later stages get a model whenever the types fit;
//! - the JSON Schema generated from the same types ([`schema_value`]) is strict: unknown keys are
//!   errors (`additionalProperties: false`), and the analytic kinds add Sentinel's required
//!   fields and value constraints through `if`/`then` on `kind`.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A GUID in its usual 8-4-4-4-12 hex form.
pub const GUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// A Sentinel duration: `<int>m`, `<int>h`, `<int>d`, or a .NET TimeSpan `[d.]hh:mm[:ss]`.
pub const DURATION_PATTERN: &str = r"^([0-9]+[mhd]|([0-9]+\.)?[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)$";
/// A MITRE ATT&CK technique or sub-technique id.
pub const TECHNIQUE_PATTERN: &str = r"^T[0-9]{4}(\.[0-9]{3})?$";
/// A template version `major.minor.patch`.
pub const VERSION_PATTERN: &str = r"^[0-9]+\.[0-9]+\.[0-9]+$";
/// A Log Analytics column name as Sentinel accepts it in entity mappings and custom details.
pub const COLUMN_PATTERN: &str = r"^[a-zA-Z_]+[a-zA-Z0-9_]*$";
/// A custom details key.
pub const CUSTOM_DETAILS_KEY_PATTERN: &str = r"^[a-zA-Z]+[a-zA-Z0-9_]*$";

/// Human descriptions of the patterns above, for diagnostics.
pub fn pattern_description(pattern: &str) -> Option<&'static str> {
    Some(match pattern {
        GUID_PATTERN => "a GUID like 00000000-0000-0000-0000-000000000000",
        DURATION_PATTERN => "a duration like 5m, 1h or 14d",
        TECHNIQUE_PATTERN => "a MITRE ATT&CK technique id like T1078 or T1078.004",
        VERSION_PATTERN => "a version like 1.0.0",
        COLUMN_PATTERN => "a column name (letters, digits and _, not starting with a digit)",
        CUSTOM_DETAILS_KEY_PATTERN => "a key of letters, digits and _, starting with a letter",
        _ => return None,
    })
}

/// A Microsoft Sentinel analytic rule (`kind: Scheduled` or `NRT`) or hunting query (no `kind`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    deny_unknown_fields,
    title = "Microsoft Sentinel rule",
    transform = required_rule_keys
)]
pub struct Rule {
    /// Unique id of the rule, a GUID. It must not change once the rule is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = GUID_PATTERN))]
    pub id: Option<String>,

    /// Display name of the rule (at most 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(max = 256))]
    pub name: Option<String>,

    /// What the rule detects and why it matters (at most 5000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(max = 5000))]
    pub description: Option<String>,

    /// Severity of the alerts the rule raises. Required for analytic rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Severity")]
    pub severity: Option<Severity>,

    /// Data connectors and the tables (data types) of each that the query reads.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<DataConnector>>")]
    pub required_data_connectors: Vec<DataConnector>,

    /// How often a scheduled rule runs: `<n>m`, `<n>h` or `<n>d`, from 5m to 14d.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = DURATION_PATTERN))]
    pub query_frequency: Option<String>,

    /// How far back each run looks: `<n>m`, `<n>h` or `<n>d`, 5m to 14d, at least `queryFrequency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = DURATION_PATTERN))]
    pub query_period: Option<String>,

    /// How the number of result rows is compared with `triggerThreshold` to raise an alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TriggerOperator")]
    pub trigger_operator: Option<TriggerOperator>,

    /// The number of result rows `triggerOperator` compares with (0 to 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64", range(min = 0, max = 10000))]
    pub trigger_threshold: Option<i64>,

    /// MITRE ATT&CK tactics; analytic rules must use Sentinel's names (`InitialAccess`, ...).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<String>>")]
    pub tactics: Vec<String>,

    /// MITRE ATT&CK techniques and sub-techniques of the rule (`T1078`, `T1078.004`).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(
        with = "Option<Vec<String>>",
        inner(regex(pattern = TECHNIQUE_PATTERN))
    )]
    pub relevant_techniques: Vec<String>,

    /// The KQL query. `{{Name}}` placeholders are filled in by the caller (hunting queries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub query: Option<String>,

    /// Maps result columns to Sentinel entities (1 to 10 mappings).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<EntityMapping>>", length(min = 1, max = 10))]
    pub entity_mappings: Vec<EntityMapping>,

    /// Extra alert fields: field name -> result column (at most 20).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(
        with = "Option<BTreeMap<String, String>>",
        transform = custom_details_constraints
    )]
    pub custom_details: BTreeMap<String, String>,

    /// Alert name, description, tactics and severity taken from result columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_details_override: Option<AlertDetailsOverride>,

    /// Whether a scheduled rule raises one alert per run or one per result row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_grouping_settings: Option<EventGroupingSettings>,

    /// Whether alerts create incidents, and how alerts are grouped into incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_configuration: Option<IncidentConfiguration>,

    /// How long to stop running the rule after an alert, as a duration (`5h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = DURATION_PATTERN))]
    pub suppression_duration: Option<String>,

    /// Whether `suppressionDuration` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub suppression_enabled: Option<bool>,

    /// Template version `major.minor.patch`; raise it on every change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(max = 20), regex(pattern = VERSION_PATTERN))]
    pub version: Option<String>,

    /// Analytic rule kind. Absent for hunting queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RuleKind")]
    pub kind: Option<RuleKind>,

    /// Free tags: a word (`Solorigate`) or a map (`{Schema: ASimDns, SchemaVersion: 0.1.1}`).
    #[serde(
        default,
        deserialize_with = "tags_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Tag>>")]
    pub tags: Vec<Tag>,

    /// Template status in the gallery (`Available`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub status: Option<String>,

    /// Solution metadata (source, author, support, categories); free-form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<BTreeMap<String, Value>>")]
    pub metadata: Option<serde_json::Map<String, Value>>,

    /// Result columns whose values are Sentinel entities (used by incident-creation rules).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<SentinelEntitiesMapping>>")]
    pub sentinel_entities_mappings: Vec<SentinelEntitiesMapping>,

    /// Whether the rule is enabled (alert rule export field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub enabled: Option<bool>,

    /// MITRE ATT&CK techniques (alert rule export field; templates use `relevantTechniques`).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<String>>", inner(regex(pattern = TECHNIQUE_PATTERN)))]
    pub techniques: Vec<String>,

    /// MITRE ATT&CK sub-techniques (alert rule export field).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<String>>", inner(regex(pattern = TECHNIQUE_PATTERN)))]
    pub sub_techniques: Vec<String>,

    /// Name of the template an alert rule was created from (alert rule export field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_rule_template_name: Option<String>,

    /// Version of the template an alert rule was created from (alert rule export field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_version: Option<String>,
}

/// Severity of an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Severity {
    High,
    Medium,
    Low,
    Informational,
}

/// Analytic rule kind: `Scheduled` runs every `queryFrequency`; `NRT` about every minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RuleKind {
    Scheduled,
    #[serde(rename = "NRT")]
    Nrt,
}

/// Comparison of the result row count with `triggerThreshold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TriggerOperator {
    #[serde(rename = "gt")]
    Gt,
    #[serde(rename = "lt")]
    Lt,
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "ne")]
    Ne,
    GreaterThan,
    LessThan,
    Equal,
    NotEqual,
}

/// A MITRE ATT&CK tactic as Sentinel names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AttackTactic {
    Reconnaissance,
    ResourceDevelopment,
    InitialAccess,
    Execution,
    Persistence,
    PrivilegeEscalation,
    DefenseEvasion,
    CredentialAccess,
    Discovery,
    LateralMovement,
    Collection,
    Exfiltration,
    CommandAndControl,
    Impact,
    PreAttack,
    ImpairProcessControl,
    InhibitResponseFunction,
}

/// A Sentinel entity type that result columns can be mapped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum EntityType {
    Account,
    Host,
    #[serde(rename = "IP")]
    Ip,
    Malware,
    File,
    Process,
    CloudApplication,
    #[serde(rename = "DNS")]
    Dns,
    AzureResource,
    FileHash,
    RegistryKey,
    RegistryValue,
    SecurityGroup,
    #[serde(rename = "URL")]
    Url,
    IoTDevice,
    Mailbox,
    MailCluster,
    MailMessage,
    SubmissionMail,
}

/// A data connector and the tables (data types) of it the query reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields, transform = required_connector_keys)]
pub struct DataConnector {
    /// Connector id, as listed in Sentinel's ValidConnectorIds.json (`AzureActiveDirectory`).
    #[serde(default)]
    pub connector_id: String,
    /// Tables the query reads from this connector (`SigninLogs`).
    #[serde(default, deserialize_with = "strings_skipping_nulls")]
    pub data_types: Vec<String>,
}

/// Maps result columns to the identifiers of one entity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EntityMapping {
    /// The entity type (`Account`, `Host`, `IP`, ...).
    #[schemars(with = "EntityType")]
    pub entity_type: String,
    /// Identifier -> column mappings (1 to 3).
    #[schemars(length(min = 1, max = 3))]
    pub field_mappings: Vec<FieldMapping>,
}

/// One identifier of an entity, taken from a result column.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct FieldMapping {
    /// Entity identifier (`FullName`, `Address`, `HostName`, ...); valid ones depend on the entity type.
    pub identifier: String,
    /// Result column holding the identifier's value.
    #[schemars(length(max = 500), regex(pattern = COLUMN_PATTERN))]
    pub column_name: String,
}

/// Alert details taken from result columns instead of the rule's static values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AlertDetailsOverride {
    /// Alert name; `{{Column}}` inserts a column value (at most 3 placeholders, 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1, max = 256))]
    pub alert_display_name_format: Option<String>,
    /// Alert description; `{{Column}}` inserts a column value (at most 3 placeholders, 5000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1, max = 5000))]
    pub alert_description_format: Option<String>,
    /// Column holding the alert's tactics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_tactics_column_name: Option<String>,
    /// Column holding the alert's severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_severity_column_name: Option<String>,
    /// Other alert properties taken from columns.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<AlertDynamicProperty>>")]
    pub alert_dynamic_properties: Vec<AlertDynamicProperty>,
}

/// An alert property taken from a result column.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AlertDynamicProperty {
    /// The alert property.
    #[schemars(with = "AlertProperty")]
    pub alert_property: String,
    /// The result column holding its value.
    pub value: String,
}

/// An alert property that `alertDynamicProperties` can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AlertProperty {
    AlertLink,
    ConfidenceLevel,
    ConfidenceScore,
    ExtendedLinks,
    ProductName,
    ProviderName,
    ProductComponentName,
    RemediationSteps,
    Techniques,
    SubTechniques,
}

/// How a scheduled rule turns results into alerts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EventGroupingSettings {
    /// `SingleAlert`: one alert per run; `AlertPerResult`: one alert per result row.
    pub aggregation_kind: AggregationKind,
}

/// Alert grouping of a scheduled rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AggregationKind {
    SingleAlert,
    AlertPerResult,
}

/// Incident creation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IncidentConfiguration {
    /// Whether alerts of the rule create incidents.
    pub create_incident: bool,
    /// How alerts are grouped into incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouping_configuration: Option<GroupingConfiguration>,
}

/// How alerts are grouped into incidents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GroupingConfiguration {
    /// Whether alerts are grouped.
    pub enabled: bool,
    /// Whether a new alert re-opens a closed incident it matches.
    pub reopen_closed_incident: bool,
    /// How far back alerts are grouped, as a duration (`5h`) or ISO 8601 (`PT5H`).
    pub lookback_duration: String,
    /// Which alerts are grouped together.
    pub matching_method: MatchingMethod,
    /// Entity types whose values must match (with `matchingMethod: Selected`).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<EntityType>>")]
    pub group_by_entities: Vec<String>,
    /// Alert details that must match (with `matchingMethod: Selected`).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<AlertDetail>>")]
    pub group_by_alert_details: Vec<String>,
    /// Custom details that must match (with `matchingMethod: Selected`).
    #[serde(
        default,
        deserialize_with = "strings_skipping_nulls",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<String>>")]
    pub group_by_custom_details: Vec<String>,
}

/// Which alerts are grouped into one incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum MatchingMethod {
    AllEntities,
    AnyAlert,
    Selected,
}

/// An alert detail that incident grouping can match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AlertDetail {
    DisplayName,
    Severity,
}

/// A result column whose values are Sentinel entities.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SentinelEntitiesMapping {
    /// The result column.
    pub column_name: String,
}

/// A tag: a word, or a map of names to values (`{Schema: ASimDns, SchemaVersion: 0.1.1}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Tag {
    Text(String),
    Map(BTreeMap<String, String>),
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn strings_skipping_nulls<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Option<Vec<Option<String>>> = Option::deserialize(d)?;
    Ok(items.unwrap_or_default().into_iter().flatten().collect())
}

fn tags_skipping_nulls<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Tag>, D::Error> {
    let items: Option<Vec<Option<Tag>>> = Option::deserialize(d)?;
    Ok(items.unwrap_or_default().into_iter().flatten().collect())
}

/// Sentinel's limits on `customDetails`: at most 20 entries, keys of at most 20 characters
/// starting with a letter, values that are column names.
fn custom_details_constraints(schema: &mut schemars::Schema) {
    schema.insert("maxProperties".into(), json!(20));
    schema.insert(
        "propertyNames".into(),
        json!({ "maxLength": 20, "pattern": CUSTOM_DETAILS_KEY_PATTERN }),
    );
    schema.insert(
        "additionalProperties".into(),
        json!({ "type": "string", "maxLength": 500, "pattern": COLUMN_PATTERN }),
    );
}

fn set_required(schema: &mut schemars::Schema, keys: &[&str]) {
    schema.insert("required".into(), json!(keys));
}

/// Keys every rule file needs, hunting queries included.
fn required_rule_keys(schema: &mut schemars::Schema) {
    set_required(schema, &["id", "name", "query"]);
}

fn required_connector_keys(schema: &mut schemars::Schema) {
    set_required(schema, &["connectorId", "dataTypes"]);
}

/// Removes `default` annotations: they describe serde's fallbacks, not the file format.
fn strip_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("default").is_some_and(|d| !d.is_object()) {
                map.remove("default");
            }
            map.values_mut().for_each(strip_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

/// Keys every analytic rule needs on top of the hunting query ones.
const ANALYTIC_REQUIRED: &[&str] = &["description", "severity"];
/// Keys a scheduled rule needs on top of [`ANALYTIC_REQUIRED`].
const SCHEDULED_REQUIRED: &[&str] = &[
    "requiredDataConnectors",
    "queryFrequency",
    "queryPeriod",
    "triggerOperator",
    "triggerThreshold",
];

/// The rule schema as a JSON value (draft 2020-12).
pub fn schema_value() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let tactic = generator.subschema_for::<AttackTactic>().to_value();
    let root = generator.into_root_schema_for::<Rule>();
    let mut value = root.to_value();
    strip_defaults(&mut value);

    // Analytic kinds: Sentinel's CI validates these strictly; hunting queries only loosely.
    let analytic_properties = json!({
        "tactics": { "type": ["array", "null"], "items": tactic },
        "query": { "type": "string", "minLength": 1, "maxLength": 10000 },
    });
    let kind_rule = |kind: &str, required: Vec<&str>| {
        json!({
            "if": {
                "properties": { "kind": { "const": kind } },
                "required": ["kind"],
            },
            "then": {
                "required": required,
                "properties": analytic_properties.clone(),
            },
        })
    };
    let scheduled: Vec<&str> = ANALYTIC_REQUIRED
        .iter()
        .chain(SCHEDULED_REQUIRED)
        .copied()
        .collect();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "allOf".into(),
            json!([
                kind_rule("Scheduled", scheduled),
                kind_rule("NRT", ANALYTIC_REQUIRED.to_vec()),
            ]),
        );
    }
    value
}

/// Every `properties` key of every object schema in `schema`, for "did you mean" hints.
pub fn known_keys(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            for v in map.values() {
                known_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| known_keys(v, out)),
        _ => {}
    }
}
