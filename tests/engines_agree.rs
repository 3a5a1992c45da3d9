//! Native evaluation against the real engines on many small queries: for each query, the SQL
//! of every dialect, run on its engine over the same rows, must return the same multiset of
//! rows as the native run. Engines that are not installed are skipped with a message, unless
//! DETC_REQUIRE_ENGINES=1 (scripts/test.sh sets it).

use detc::catalog::Catalog;
use detc::engines::Engine;
use detc::eval::{self, compile::Ctx, data, Data};
use detc::lower::{lower, Tables};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Queries over tests/fixtures/agree, with the engines that report them unsupported.
const QUERIES: &[(&str, &[&str])] = &[
    ("SigninLogs | summarize count() by UserPrincipalName", &[]),
    ("SigninLogs | summarize c = countif(ResultType != \"0\"), d = dcount(IPAddress), s = make_set(IPAddress) by UserPrincipalName", &[]),
    ("SigninLogs | where TimeGenerated > datetime(2024-03-01) + 1h | project UserPrincipalName, TimeGenerated", &[]),
    ("SigninLogs | extend h = bin(TimeGenerated, 1h) | summarize count() by h", &[]),
    ("SigninLogs | top 3 by TimeGenerated desc | project UserPrincipalName, TimeGenerated", &[]),
    ("SigninLogs | extend city = tostring(LocationDetails.city), n = array_length(ConditionalAccessPolicies) | project UserPrincipalName, city, n", &[]),
    ("SigninLogs | summarize arg_max(TimeGenerated, IPAddress) by UserPrincipalName", &[]),
    ("SigninLogs | summarize arg_min(TimeGenerated, *) by UserPrincipalName | project UserPrincipalName, TimeGenerated, IPAddress", &[]),
    ("SigninLogs | summarize s = make_set(IPAddress, 2), t = make_set_if(ResultType, ResultType != \"0\", 1) by UserPrincipalName", &[]),
    ("SigninLogs | extend dd = datetime_diff('day', TimeGenerated, datetime(2024-02-28)), dh = datetime_diff('hour', TimeGenerated, datetime(2024-03-01)) | project dd, dh", &[]),
    ("SigninLogs | extend b = tobool(iff(ResultType == \"0\", \"True\", \"false\")) | summarize count() by b", &[]),
    ("SigninLogs | where UserPrincipalName in~ ((IdentityInfo | project AccountUPN)) | project UserPrincipalName", &[]),
    ("SigninLogs | where UserPrincipalName !in ((IdentityInfo | project AccountUPN)) | project UserPrincipalName", &[]),
    ("SigninLogs | extend x = extract(\"([0-9]+)\\\\.\", 1, IPAddress) | project x", &[]),
    ("SigninLogs | where ResultDescription matches regex \"[Mm][Ff][Aa]\" | project ResultDescription", &[]),
    ("SigninLogs | extend n = tolong(ResultType) | summarize sum(n), avg(n), max(n) by UserPrincipalName", &[]),
    ("SigninLogs | extend n = tolong(ResultType) | summarize sd = round(stdev(n), 6), v = round(variance(n), 6) by UserPrincipalName", &[]),
    ("SigninLogs | extend p = ipv4_is_private(IPAddress) | project IPAddress, p", &[]),
    ("SigninLogs | extend t = TimeGenerated - datetime(2024-03-01) | project t", &[]),
    ("SigninLogs | lookup kind=leftouter (IdentityInfo | project AccountUPN, Department) on $left.UserPrincipalName == $right.AccountUPN | project UserPrincipalName, Department", &[]),
    ("SigninLogs | parse ResultDescription with \"code \" Code:long \" \" Rest | project Code, Rest", &[]),
    ("datatable(a:string, b:long) [\"x\", 1, \"y\", 2, \"z\", long(null)] | where b > 1 or isnull(b)", &[]),
    ("SigninLogs | summarize by UserPrincipalName, bin(TimeGenerated, 1d)", &[]),
    ("SigninLogs | where isnotempty(ResultDescription) | extend u = toupper(UserPrincipalName), l = strlen(UserPrincipalName) | project u, l", &[]),
    ("SigninLogs | where TimeGenerated between (datetime(2024-03-01) .. 12h) | project TimeGenerated", &[]),
    ("SigninLogs | extend c = case(ResultType == \"0\", \"ok\", ResultType == \"50074\", \"mfa\", \"other\") | summarize count() by c", &[]),
    ("SigninLogs | mv-expand ConditionalAccessPolicies | extend p = tostring(ConditionalAccessPolicies.displayName) | project UserPrincipalName, p", &[]),
    ("SigninLogs | summarize min(TimeGenerated), max(TimeGenerated), count()", &[]),
    ("SigninLogs | where ResultType !in (\"0\", \"50074\") | project ResultType", &[]),
    ("SigninLogs | count", &[]),
    ("SigninLogs | summarize n = count(), arg_max(TimeGenerated, IPAddress, ResultDescription), m = arg_min(UserPrincipalName, ResultType) by bin(TimeGenerated, 1d)", &[]),
    ("SigninLogs | extend t = tostring(TimeGenerated), z = string_size(ResultDescription), r = round(toreal(strlen(UserPrincipalName)) / 3, 2) | project t, z, r", &[]),
    ("SigninLogs | extend v = reverse(UserPrincipalName) | project v", &["sqlite"]),
    ("datatable(p:string) [@\"C:\\Windows\\System32\\cmd.exe\", \"/usr/bin/python3.11\", \"https://h.com/a/b.tar.gz\", \"file.txt:stream\", \"noext\", \"\"] | extend f = tostring(parse_path(p).Filename), e = parse_path(p).Extension", &[]),
    ("SigninLogs | extend a = trim_end(\"[a-z.]+\", UserPrincipalName), b = trim_start(\"[0-9]\", IPAddress), n = tolong(TimeGenerated - datetime(2024-03-01)), m = tolong(ResultType == \"0\") | project a, b, n, m", &[]),
    ("SigninLogs | extend c = countof(ResultDescription, \" \"), d = countof(UserPrincipalName, \"co\") | project c, d", &[]),
    ("SigninLogs | extend e = extract_all(@\"([0-9]+)\", ResultDescription), f = extract_all(@\"[a-z]+\", UserPrincipalName) | project e, f", &[]),
    ("datatable(u:string) [\"https://user:pw@host.example.com:8443/a/b.php?x=1#frag\", \"http://h.com\", \"ftp://a@b@c:x/p\", \"no scheme\", \"\"] | extend h = tostring(parse_url(u).Host), p = parse_url(u)[\"Port\"], pa = parse_url(u).Path, s = parse_url(u).Scheme, f = parse_url(u).Fragment, us = parse_url(u).Username, pw = parse_url(u).Password", &[]),
    ("SigninLogs | extend d = totimespan(TimeGenerated - datetime(2024-03-01)) | project d", &[]),
    ("SigninLogs | extend second = split(ResultDescription, \" \", 1), tenth = split(ResultDescription, \" \", 9) | project second, tenth", &[]),
    ("SigninLogs | mv-expand ConditionalAccessPolicies to typeof(string) | project UserPrincipalName, ConditionalAccessPolicies", &[]),
    ("print a = dynamic([1, \"x\", 2.5, true, null]) | mv-expand a to typeof(long)", &[]),
    ("print a = dynamic([1, \"x\", 2.5, true]) | mv-expand a to typeof(real) | where isnotnull(a)", &[]),
    ("SigninLogs | extend t = todatetime(strcat(\"2024-03-0\", tostring(strlen(ResultType) + 1), \"T10:00:00Z\")), n = tolong(LocationDetails.missing), h = tohex(strlen(UserPrincipalName) * 100) | project t, n, h", &[]),
    ("SigninLogs | extend l = toreal(strlen(IPAddress)) / 2 | summarize s = make_set(l) by ResultType", &[]),
    ("print b = base64_decode_tostring(\"aGVsbG8=\")", &[]),
    ("let terms = datatable(t:string) [\"MFA\", \"(mfa)\", \"invalid username\", \"quoted\\\"\"]; SigninLogs | where ResultDescription has_any (terms) | project ResultDescription", &[]),
    ("SigninLogs | extend t = iff(ResultType == \"0\", \"success\", \"code\") | where ResultDescription has t | project ResultDescription", &[]),
    ("SigninLogs | summarize a = take_anyif(IPAddress, ResultType != \"0\") by UserPrincipalName", &[]),
    ("SigninLogs | extend parts = split(ResultDescription, \" \"), first = tostring(split(UserPrincipalName, \"@\")[0]) | project parts, first", &[]),
    ("SigninLogs | extend r = replace_regex(ResultDescription, @\"code ([0-9]+)\", @\"<\\1>\") | project r", &[]),
    ("SigninLogs | summarize span = max(TimeGenerated) - min(TimeGenerated), n = count() * 2 by UserPrincipalName", &[]),
    ("SigninLogs | where LocationDetails.city == \"Oslo\" or ConditionalAccessPolicies[0].result == \"failure\" | project UserPrincipalName", &[]),
    ("SigninLogs | extend d = todynamic(strcat('{\"n\": ', tostring(strlen(UserPrincipalName)), '}')) | where d.n > 16 | project UserPrincipalName", &[]),
    ("SigninLogs | where ResultDescription has \"mfa\" or ResultDescription hasprefix \"auth\" | project ResultDescription", &[]),
    ("SigninLogs | where UserPrincipalName =~ \"BOB@contoso.com\" and ResultDescription !contains \"invalid\" | project UserPrincipalName", &[]),
    ("SigninLogs | extend d = startofday(TimeGenerated), hr = hourofday(TimeGenerated) | summarize count() by d, hr", &[]),
    ("SigninLogs | extend s = substring(UserPrincipalName, 0, 5), i = indexof(UserPrincipalName, \"@\"), r = replace_string(UserPrincipalName, \"contoso\", \"fabrikam\") | project s, i, r", &[]),
    ("SigninLogs | project-away LocationDetails, ConditionalAccessPolicies | project-rename User = UserPrincipalName | project User, IPAddress", &[]),
    ("SigninLogs | evaluate bag_unpack(LocationDetails) | project UserPrincipalName, c = tostring(city), r = column_ifexists(\"countryOrRegion\", \"none\")", &[]),
    ("SigninLogs | extend t = ingestion_time() | project UserPrincipalName, t", &[]),
    ("SigninLogs | extend a = pack_array(IPAddress, ResultType), b = ConditionalAccessPolicies | mv-expand a to typeof(string), b | project UserPrincipalName, a, p = tostring(b.displayName)", &[]),
    ("SigninLogs | mv-expand with_itemindex = i c = ConditionalAccessPolicies | project UserPrincipalName, i, r = tostring(c.result)", &[]),
    ("SigninLogs | extend n = pack_array(1, 2, 3) | mv-expand n to typeof(long) limit 2 | project UserPrincipalName, n", &[]),
    ("SigninLogs | extend x = todynamic('[true, 1.5]'), y = ConditionalAccessPolicies | mv-expand with_itemindex = k x to typeof(bool), y | project UserPrincipalName, k, x, y", &[]),
    ("SigninLogs | extend x = pack_array(ResultType == \"0\", strlen(IPAddress)) | mv-expand x | project UserPrincipalName, x", &[]),
    ("SigninLogs | evaluate pivot(ResultType, count(), UserPrincipalName) | project UserPrincipalName, ok = tolong(column_ifexists(\"0\", 0)), mfa = tolong(column_ifexists(\"50074\", 0))", &[]),
    ("SigninLogs | extend n = strlen(IPAddress) | evaluate pivot(ResultType, sum(n)) | project s = tolong(column_ifexists(\"0\", 0)), t = tolong(column_ifexists(\"50074\", 0))", &[]),
    ("SigninLogs | where ResultType == \"none\" | evaluate pivot(ResultType) | project s = tolong(column_ifexists(\"0\", 0))", &[]),
    ("SigninLogs | sort by TimeGenerated asc | take 2 | project TimeGenerated", &[]),
    ("SigninLogs | extend b = pack_array(UserPrincipalName, ResultType) | project b", &[]),
    ("IdentityInfo | mv-expand AssignedRoles | extend r = tostring(AssignedRoles) | summarize roles = make_set(r) by AccountUPN", &[]),
    ("SigninLogs | summarize n = dcountif(IPAddress, ResultType == \"0\"), s = sumif(1, ResultType != \"0\") by UserPrincipalName", &[]),
    ("let t = toscalar(SigninLogs | summarize max(TimeGenerated)); SigninLogs | where TimeGenerated == t | project UserPrincipalName", &[]),
    ("SigninLogs | mv-apply p = ConditionalAccessPolicies on (where tostring(p.result) != \"success\" | project name = tostring(p.displayName)) | project UserPrincipalName, name", &[]),
    ("SigninLogs | mv-apply p = ConditionalAccessPolicies on (summarize n = count(), s = make_set(tostring(p.result)), a = take_anyif(tostring(p.displayName), p.result == \"failure\")) | project UserPrincipalName, n, s, a", &[]),
    ("SigninLogs | mv-apply p = ConditionalAccessPolicies on (top 1 by tostring(p.displayName) asc) | project UserPrincipalName, d = tostring(p.displayName)", &[]),
    ("SigninLogs | mv-apply p = ConditionalAccessPolicies on (summarize b = make_bag(bag_pack(tostring(p.displayName), p.result))) | project UserPrincipalName, b", &[]),
    ("SigninLogs | mv-apply p = ConditionalAccessPolicies on (project UserPrincipalName = tostring(p.displayName), ResultType = 1) | project UserPrincipalName, ResultType, AppDisplayName", &[]),
    ("SigninLogs | summarize l = make_list(TimeGenerated), m = make_list_if(IPAddress, ResultType == \"0\", 5), s = make_set(TimeGenerated) by UserPrincipalName, TimeGenerated", &[]),
    ("SigninLogs | extend b = bag_pack(\"t\", TimeGenerated, \"ok\", ResultType == \"0\", \"d\", TimeGenerated - datetime(2024-03-01)), a = pack_array(TimeGenerated, ResultType == \"0\") | project b, a", &[]),
    ("SigninLogs | extend d = TimeGenerated - datetime(2024-03-01 00:00:00.5), e = datetime(2024-03-01) - TimeGenerated, f = tostring(ResultType == \"0\") | project s = tostring(d), t = tostring(e), f", &[]),
    ("SigninLogs | extend a = trim(@\"[a-z]+\", UserPrincipalName), b = trim(\"[0-9]\", IPAddress) | project a, b", &[]),
    ("SigninLogs | extend h = hash(UserPrincipalName), m = hash(IPAddress, 7) | summarize n = dcount(h), k = dcount(m) by UserPrincipalName, IPAddress | project UserPrincipalName, n, k", &[]),
    ("SigninLogs | extend t = tostring(LocationDetails), p = tostring(ConditionalAccessPolicies) | project c = extract_json(\"$.city\", t), r = extract_json(\"$[0].result\", p), d = extract_json(\"$['countryOrRegion']\", LocationDetails), x = extract_json(\"$.missing\", t), l = toint(extract_json(\"$.city\", t))", &[]),
    ("datatable(a:dynamic) [dynamic([1, \"x\", true, null, {\"k\": 2}]), dynamic([]), dynamic({\"k\": 1}), dynamic(null)] | extend s1 = array_slice(a, 1, -1), s2 = array_slice(a, -2, 10), s3 = array_slice(a, 3, 1), j = strcat_array(array_slice(a, 0, 3), \"|\"), j2 = strcat_array(array_slice(a, 0, 1), \"\")", &[]),
    ("SigninLogs | mv-expand LocationDetails | project UserPrincipalName, l = LocationDetails", &[]),
    ("SigninLogs | mv-expand bagexpansion=array LocationDetails | project UserPrincipalName, k = tostring(LocationDetails[0]), v = tostring(LocationDetails[1])", &[]),
    ("SigninLogs | mv-expand bagexpansion=array with_itemindex = i LocationDetails, ConditionalAccessPolicies | project UserPrincipalName, i, l = LocationDetails, c = ConditionalAccessPolicies", &[]),
    ("print a = dynamic([\"2024-03-01T10:00:00Z\", \"2024-03-02 08:30:00.25\", 5, \"not a date\", null]) | mv-expand a to typeof(datetime)", &[]),
    ("print a = dynamic([\"2024-03-01T10:00:00Z\", 5]), b = dynamic([1, 2, 3]) | mv-expand a to typeof(datetime), b", &[]),
    ("SigninLogs | extend a = extract_all(@\"(?P<word>[a-z]+) (?P<num>[0-9]+)\", dynamic([\"num\", \"word\"]), ResultDescription), b = extract_all(@\"([a-z])([a-z]+)([a-z])\", ResultDescription), c = extract_all(@\"(\\w)(\\w+)(\\w)\", dynamic([3]), UserPrincipalName), d = extract_all(@\"(?P<IPAddress>[0-9]+)\\.\", dynamic([\"IPAddress\"]), IPAddress) | project a, b, c, d", &[]),
    ("datatable(g:string, d:dynamic) [\"a\", dynamic([3, \"x\", 10]), \"a\", dynamic([\"x\", 2.5, true, null]), \"a\", dynamic({\"k\": 1}), \"a\", dynamic(\"s\"), \"b\", dynamic(null), \"b\", dynamic([]), \"c\", dynamic([[1], {\"z\": 2}, [1]])] | summarize s = make_set(d), s2 = make_set(d, 3), si = make_set_if(d, g == \"a\"), n = array_length(make_list(d)) by g", &[]),
    ("IdentityInfo | summarize s = make_set(AssignedRoles), l = array_length(make_list(AssignedRoles)) by AccountUPN", &[]),
    ("datatable(a:dynamic, b:dynamic) [dynamic([1, \"x\", 2.0, \"y\"]), dynamic({\"z\": 1, \"a\": [2], \"B\": null}), dynamic([]), dynamic({}), dynamic(null), dynamic(\"x\")] | extend hx = set_has_element(a, \"x\"), h1 = set_has_element(a, 1), h2 = set_has_element(a, 2), c = array_concat(a, a), c3 = array_concat(a, dynamic([true]), a), k = bag_keys(b), k2 = bag_keys(a)", &[]),
    ("datatable(a:string, b:string) [\"10.1.2.3\", \"10.1.0.0/16\", \"10.1.2.3\", \"10.2.0.0/16\", \" 192.168.1.9 \", \"192.168.1.0 / 24\", \"256.1.1.1\", \"1.1.1.1\", \"01.2.3.4\", \"1.2.3.4\", \"172.16.0.1\", \"172.32.0.1/8\", \"8.8.8.8\", \"8.8.8.8/33\", \"\", \"1.2.3.4\"] | extend m = ipv4_is_match(a, b), m8 = ipv4_is_match(a, b, 8), pa = ipv4_is_private(a), pb = ipv4_is_private(b)", &[]),
    ("SigninLogs | summarize b = make_bag(LocationDetails), b1 = make_bag(LocationDetails, 1) by UserPrincipalName | project UserPrincipalName, b = tostring(b.city) != \"\", n = array_length(bag_keys(b)), k1 = bag_keys(b1)", &[]),
    ("datatable(g:long, d:dynamic) [1, dynamic({\"b\": 1, \"a\": {\"x\": [1]}}), 1, dynamic({\"c\": \"s\"}), 1, dynamic([1]), 2, dynamic(null), 3, dynamic({})] | summarize b = make_bag(d), b2 = make_bag(d, 2) by g", &[]),
    ("datatable(s:string) [\"aGVsbG8=\", \"\", \" /w== \", \"AAEC\"] | extend b = base64_decode_toarray(s)", &[]),
    ("datatable(s:string) [\"<a x='1'><b>t</b><b>u</b></a>\", \"not xml\", \"\"] | extend x = parse_xml(s) | extend b = tostring(x.a.b[1])", &["duckdb", "postgres"]),
    ("datatable(a:dynamic) [dynamic([104, 105, 8364, 128512]), dynamic([]), dynamic([65, \"x\"]), dynamic([65, 55296]), dynamic(null), dynamic(66)] | extend s = make_string(a), u = unicode_codepoints_to_string(a)", &[]),
    ("let s = toscalar(IdentityInfo | summarize make_set(AccountUPN)); SigninLogs | where UserPrincipalName in~ (s) | project UserPrincipalName", &[]),
    ("SigninLogs | where UserPrincipalName in ((IdentityInfo | summarize l = make_list(AccountUPN) | project l)) | project UserPrincipalName", &[]),
    ("SigninLogs | extend b = pack_array(\"alice@contoso.com\", 1) | where UserPrincipalName !in (b) | project UserPrincipalName", &[]),
    ("SigninLogs | extend d = case(ResultType == \"0\", LocationDetails.city, \"none\"), e = iff(ResultType == \"0\", LocationDetails, dynamic(null)) | project d, e", &[]),
    ("SigninLogs | extend userprincipalname = toupper(UserPrincipalName), USERPRINCIPALNAME = strlen(UserPrincipalName) | project UserPrincipalName, userprincipalname, USERPRINCIPALNAME", &[]),
    ("SigninLogs | extend ThisIsAVeryLongColumnNameThatGoesOnAndOnBeyondTheLimitOfPostgresIdentifiersA = 1, ThisIsAVeryLongColumnNameThatGoesOnAndOnBeyondTheLimitOfPostgresIdentifiersB = 2 | summarize x = sum(ThisIsAVeryLongColumnNameThatGoesOnAndOnBeyondTheLimitOfPostgresIdentifiersA + ThisIsAVeryLongColumnNameThatGoesOnAndOnBeyondTheLimitOfPostgresIdentifiersB) by UserPrincipalName", &[]),
    ("SigninLogs | extend ok = ResultType == \"0\" | summarize a = max(ok), b = min(ok), c = take_any(ok), d = take_any(LocationDetails), e = max(LocationDetails), f = min(ConditionalAccessPolicies) by UserPrincipalName", &[]),
    ("SigninLogs | extend t = split(LocationDetails.city, \"e\"), n = strlen(LocationDetails.city), s = substring(LocationDetails.countryOrRegion, 1), l = tolong(strlen(IPAddress) * 1.7) | project t, n, s, l", &[]),
    ("SigninLogs | where TimeGenerated > ago(1d) and TimeGenerated < now() + 1h | project UserPrincipalName", &[]),
    ("SigninLogs | extend g = extract(@\"(c)(o)(d)(e) ([0-9])([0-9])([0-9])([0-9])([0-9]) (?P<w>[A-Za-z]+)( |$)\", 10, ResultDescription), h = extract(@\"((((((((((((a))))))))))))\", 12, UserPrincipalName) | project g, h", &[]),
    ("SigninLogs | extend a = max_of(strlen(IPAddress), 1.5 * strlen(ResultType)), b = min_of(TimeGenerated, datetime(2024-03-01 12:00)), c = max_of(UserPrincipalName, \"Bob\", ResultDescription), d = min_of(tolong(LocationDetails.missing), 7), e = max_of(long(null), long(null)) | project a, b, c, d, e", &[]),
    ("let t = toscalar(datatable(w:string) [\"MFA\", \"password\", \"\"] | where w != \"\" | summarize make_set(w)); SigninLogs | where ResultDescription has_any (t) | project ResultDescription", &[]),
    ("SigninLogs | extend t = pack_array(\"code\", strcat(ResultType, \"\")) | where ResultDescription has_all (t) | project ResultDescription", &[]),
    ("SigninLogs | extend n = strlen(IPAddress), l = pack_array(8, 11.0, \"12\", true, dynamic(null)) | where n in (l) or tolong(ResultType) !in (l) | project n, r = round(n), s = round(n, 2)", &[]),
    ("SigninLogs | mv-apply p = ConditionalAccessPolicies on (extend r = tostring(p.result) | summarize n = count() by r) | project UserPrincipalName, r, n", &[]),
    ("SigninLogs | sort by TimeGenerated asc | extend p = prev(UserPrincipalName), n = next(TimeGenerated, 2), d = prev(ResultType, 1, \"none\"), rn = row_number(5) | project TimeGenerated, UserPrincipalName, p, n, d, rn", &[]),
    ("SigninLogs | sort by tolower(UserPrincipalName) asc, TimeGenerated desc | extend u = tolower(UserPrincipalName) | extend k = row_number(1, u != prev(u)), c = row_cumsum(strlen(IPAddress), u != prev(u)), r = row_cumsum(1.5) | where k == 1 or prev(k) == 1 | project u, TimeGenerated, k, c, r", &[]),
    ("SigninLogs | top 4 by TimeGenerated desc | serialize n = row_number() | take 3 | project TimeGenerated, n, m = next(n, 1, -1)", &[]),
    ("SigninLogs | sort by TimeGenerated asc | project-away LocationDetails | where ResultType != \"0\" | extend g = TimeGenerated - prev(TimeGenerated) | project UserPrincipalName, g", &[]),
    ("SigninLogs | sort by TimeGenerated asc | extend s = row_window_session(TimeGenerated, 1d, 2h), r = row_rank_dense(tolower(UserPrincipalName)) | project TimeGenerated, s, r", &["duckdb", "sqlite", "postgres"]),
    ("SigninLogs | extend n = strlen(IPAddress), t = TimeGenerated | summarize percentile(n, 50), percentiles(t, 10, 90), c = count_distinct(n) by tolower(UserPrincipalName)", &[]),
    ("SigninLogs | extend d = now(-1h) - TimeGenerated | project UserPrincipalName, d", &[]),
    ("SigninLogs | extend n = strlen(IPAddress) | extend r = range(1, n, 3), q = range(n, 1, -4), z = range(1, n, n - n) | mv-expand r | project n, r, q, z", &["sqlite"]),
    ("SigninLogs | where ipv4_is_in_range(IPAddress, \"10.0.0.0/8\") or ipv4_is_in_any_range(IPAddress, \"8.8.8.0/24\", \"172.16.0.0/12\") or ipv4_is_in_any_range(IPAddress, dynamic([\"192.168.1.20\"])) | project IPAddress", &[]),
    ("SigninLogs | where IPAddress matches regex @\"^[0-9-.]+$\" | extend o = extract(@\"([a-c-e]+)\", 1, UserPrincipalName) | project IPAddress, UserPrincipalName, o", &[]),
    ("SigninLogs | extend p = iff(strlen(IPAddress) > 9, \"[0-9]+\", \"[a-z]+\") | project e = extract(p, 0, IPAddress), f = extract(strcat_array(dynamic([\"o\", \"b\"]), \"|\"), 0, UserPrincipalName)", &[]),
    ("SigninLogs | extend n = strlen(UserPrincipalName) | project a = substring(UserPrincipalName, -3), b = substring(UserPrincipalName, 2, n - 20), c = substring(UserPrincipalName, -100, 4), d = substring(IPAddress, 3)", &[]),
    ("SigninLogs | extend parts = split(UserPrincipalName, \"@\") | project a = strcat(parts[0], \".\", parts[1], \"/\", TimeGenerated, \"/\", strlen(IPAddress), \"/\", LocationDetails.city, \"/\", ResultType == \"0\")", &[]),
];

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn load_data(catalog: &Catalog) -> Data {
    let dir = root().join("tests/fixtures/agree");
    let mut d = Data::default();
    for (name, path) in data::list_dir(&dir).unwrap() {
        let schema = catalog.table(&name).unwrap();
        d.tables
            .insert(name, Arc::new(data::read_file(&path, &schema).unwrap()));
    }
    d
}

/// The catalog, the fixture tables and the names of the tables present.
fn setup() -> (Catalog, Data, BTreeSet<String>) {
    let catalog = Catalog::builtin();
    let data = load_data(&catalog);
    let present = data.tables.keys().cloned().collect();
    (catalog, data, present)
}

#[test]
fn engines_agree_with_native() {
    let (catalog, data, present) = setup();
    let tables = Tables {
        catalog: &catalog,
        present: Some(&present),
    };
    let now = detc::value::parse_datetime("2024-03-03T00:00:00Z").unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (q, unsupported) in QUERIES {
        if unsupported.contains(&"native") {
            continue;
        }
        let (ast, d) = detc::syntax::parse(q);
        assert!(d.is_empty(), "{q}: {d:?}");
        let lowered = lower(&ast, &tables);
        let plan = lowered
            .plan
            .unwrap_or_else(|| panic!("{q}: {:?}", lowered.diagnostics));
        let rows = eval::run(&plan, &data, &Ctx { now }).unwrap_or_else(|d| panic!("{q}: {d:?}"));
        for engine in [Engine::Sqlite, Engine::DuckDb, Engine::Postgres] {
            if !detc::engines::available_or_skip(engine) {
                continue;
            }
            match detc::verify::check(&plan, &data, &rows, engine, now) {
                Ok(_) if unsupported.contains(&engine.name()) => failures.push(format!(
                    "{}: {q}\n  expected unsupported, but it ran",
                    engine.name()
                )),
                Ok(_) => checked += 1,
                Err(msg)
                    if unsupported.contains(&engine.name())
                        && msg.starts_with("cannot emit SQL") => {}
                Err(msg) => failures.push(format!("{}: {q}\n{msg}", engine.name())),
            }
        }
    }
    eprintln!("{checked} query x engine pairs agree");
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Spark emits only its core (`emit::sql_core`): every query whose Spark SQL renders must
/// agree on a local Spark; the others must be reported unsupported with a reason.
#[test]
fn spark_agrees_with_native_on_its_core() {
    let (catalog, data, present) = setup();
    let tables = Tables {
        catalog: &catalog,
        present: Some(&present),
    };
    if !detc::engines::available_or_skip(Engine::Spark) {
        return;
    }
    let now = detc::value::parse_datetime("2024-03-03T00:00:00Z").unwrap();
    let (mut agreed, mut unsupported, mut failures) = (0, Vec::new(), Vec::new());
    for (q, _) in QUERIES {
        let (ast, _) = detc::syntax::parse(q);
        let Some(plan) = lower(&ast, &tables).plan else {
            continue;
        };
        if let Err(u) = detc::emit::sql::emit(&plan, &detc::emit::sql::SPARK) {
            assert!(!u.reason.is_empty(), "{q}: unsupported without a reason");
            unsupported.push(format!("{q}\n  {u}"));
            continue;
        }
        let rows = eval::run(&plan, &data, &Ctx { now }).unwrap();
        match detc::verify::check(&plan, &data, &rows, Engine::Spark, now) {
            Ok(_) => agreed += 1,
            Err(msg) => failures.push(format!("spark: {q}\n{msg}")),
        }
    }
    eprintln!(
        "spark: {agreed} queries agree, {} unsupported:\n{}",
        unsupported.len(),
        unsupported.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The core covers most of these queries; a gate that refused everything would pass above.
    assert!(agreed >= 25, "only {agreed} queries emitted for Spark");
}
