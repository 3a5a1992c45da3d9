//! Synthetic Entra ID logs for detc's benchmarks (bench/README.md): sign-in rows for
//! SigninLogs and AADNonInteractiveUserSignInLogs, identity rows for IdentityInfo.
//!
//! About 3% of sign-ins fail MFA (a result code or description the seed rule looks for);
//! `admins_per_mille` of the identities hold an admin role. Column widths follow real exports:
//! guids, UPNs, user agents, nested device/location/policy objects, about 1.7 KB a sign-in
//! row. Deterministic for a seed; no dependencies.

/// xorshift64*: small, fast, reproducible.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn guid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Identities (IdentityInfo rows), and the users sign-ins pick from.
pub const USERS: u64 = 100_000;
const DAY_START: i64 = 1_709_251_200; // 2024-03-01T00:00:00Z

const APPS: &[&str] = &[
    "Office 365 Exchange Online",
    "Microsoft Teams",
    "Azure Portal",
    "Microsoft Authentication Broker",
    "OfficeHome",
    "SharePoint Online Web Client Extensibility",
    "Windows Sign In",
];
const CLIENTS: &[&str] = &[
    "Browser",
    "Mobile Apps and Desktop clients",
    "Exchange ActiveSync",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Windows-AzureAD-Authentication-Provider/1.0",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Oslo", "Oslo", "NO"),
    ("Seattle", "Washington", "US"),
    ("London", "England", "GB"),
    ("Berlin", "Berlin", "DE"),
    ("Sydney", "New South Wales", "AU"),
];
/// (ResultType, ResultDescription) of successful and ordinary failed sign-ins.
const OUTCOMES: &[(&str, &str)] = &[
    ("0", ""),
    ("0", ""),
    ("0", ""),
    ("0", ""),
    ("50126", "Error validating credentials due to invalid username or password."),
    ("50140", "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."),
    ("70044", "The session has expired or is invalid due to sign-in frequency checks by conditional access."),
];
/// MFA failures the seed rule finds: by code, by description, or both.
const MFA: &[(&str, &str)] = &[
    ("50074", "Strong Authentication is required."),
    ("50076", "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource."),
    ("500121", "Authentication failed during strong authentication request."),
    ("0", "MFA denied; user declined the authentication"),
    ("53004", "Proofup is required, user must register for second factor"),
];

fn upn(u: u64) -> String {
    format!("user{u:06}@contoso.com")
}

/// `s` as a JSON string.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn iso(secs: i64, frac: u64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Sign-in `i` of `rows`; `dynamic_as_text`: AADNonInteractiveUserSignInLogs types the nested
/// objects as strings holding JSON.
pub fn signin(r: &mut Rng, i: u64, rows: u64, dynamic_as_text: bool) -> String {
    let user = r.below(USERS);
    let secs = DAY_START + (i as i64 * 86_400 * 2) / rows as i64;
    let t = iso(secs, r.below(10_000_000));
    let (code, desc) = if r.below(100) < 3 {
        MFA[r.below(MFA.len() as u64) as usize]
    } else {
        OUTCOMES[r.below(OUTCOMES.len() as u64) as usize]
    };
    let (city, state, country) = CITIES[r.below(CITIES.len() as u64) as usize];
    let ip = format!(
        "{}.{}.{}.{}",
        20 + r.below(200),
        r.below(256),
        r.below(256),
        1 + r.below(254)
    );
    let nested = |json: String| {
        if dynamic_as_text {
            json_str(&json)
        } else {
            json
        }
    };
    let location = nested(format!(
        r#"{{"city":"{city}","state":"{state}","countryOrRegion":"{country}","geoCoordinates":{{"latitude":{}.{},"longitude":{}.{}}}}}"#,
        r.below(80),
        r.below(10_000),
        r.below(170),
        r.below(10_000)
    ));
    let device = nested(format!(
        r#"{{"deviceId":"{}","displayName":"LAPTOP-{:05}","operatingSystem":"{}","browser":"{}","isCompliant":{},"isManaged":{},"trustType":"Azure AD joined"}}"#,
        r.guid(),
        r.below(99_999),
        r.pick(&["Windows 10", "MacOs", "Ios", "Android"]),
        r.pick(&[
            "Edge 120.0.0",
            "Chrome 120.0.0",
            "Safari 17.2",
            "Rich Client 4.61.0"
        ]),
        r.below(2) == 0,
        r.below(2) == 0
    ));
    let policies = nested(format!(
        r#"[{{"id":"{}","displayName":"Require MFA for admins","enforcedGrantControls":["Mfa"],"result":"{}"}},{{"id":"{}","displayName":"Block legacy authentication","enforcedGrantControls":["Block"],"result":"notApplied"}}]"#,
        r.guid(),
        r.pick(&["success", "failure", "notApplied"]),
        r.guid()
    ));
    format!(
        concat!(
            r#"{{"TimeGenerated":"{t}","CreatedDateTime":"{t}","UserPrincipalName":"{upn}","UserDisplayName":"User {user}","UserId":"{uid}","#,
            r#""IPAddress":"{ip}","ResultType":"{code}","ResultDescription":{desc},"AppDisplayName":"{app}","AppId":"{appid}","#,
            r#""ClientAppUsed":"{client}","UserAgent":{agent},"ConditionalAccessStatus":"{cas}","CorrelationId":"{corr}","Id":"{id}","#,
            r#""Location":"{country}","LocationDetails":{location},"DeviceDetail":{device},"ConditionalAccessPolicies":{policies},"#,
            r#""AuthenticationRequirement":"{req}","Category":"{cat}","OperationName":"Sign-in activity","ResourceDisplayName":"{app}","#,
            r#""TenantId":"{tenant}","RiskState":"none","DurationMs":{dur},"IsInteractive":{inter},"Type":"{cat}"}}"#
        ),
        t = t,
        upn = upn(user),
        user = user,
        uid = r.guid(),
        ip = ip,
        code = code,
        desc = json_str(desc),
        app = r.pick(APPS),
        appid = r.guid(),
        client = r.pick(CLIENTS),
        agent = json_str(r.pick(AGENTS)),
        cas = r.pick(&["success", "failure", "notApplied"]),
        corr = r.guid(),
        id = r.guid(),
        country = country,
        location = location,
        device = device,
        policies = policies,
        req = r.pick(&["singleFactorAuthentication", "multiFactorAuthentication"]),
        cat = if dynamic_as_text {
            "AADNonInteractiveUserSignInLogs"
        } else {
            "SignInLogs"
        },
        tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47",
        dur = r.below(5000),
        inter = !dynamic_as_text,
    )
}

/// One IdentityInfo row.
pub fn identity(r: &mut Rng, u: u64, admins_per_mille: u64) -> String {
    let roles = if r.below(1000) < admins_per_mille {
        r#"["Global Administrator","Security Reader"]"#
    } else if r.below(10) == 0 {
        r#"["Reports Reader"]"#
    } else {
        "[]"
    };
    // Half the UPNs are stored with capitals: the seed lower-cases them.
    let name = upn(u);
    let name = if u.is_multiple_of(2) {
        name.to_uppercase()
    } else {
        name
    };
    format!(
        r#"{{"TimeGenerated":"2024-03-01T00:00:00Z","AccountUPN":"{name}","AccountObjectId":"{}","AccountDisplayName":"User {u}","Department":"{}","JobTitle":"{}","AssignedRoles":{roles},"IsAccountEnabled":true,"Type":"IdentityInfo"}}"#,
        r.guid(),
        r.pick(&["Finance", "Engineering", "Sales", "IT"]),
        r.pick(&["Engineer", "Manager", "Analyst"]),
    )
}
