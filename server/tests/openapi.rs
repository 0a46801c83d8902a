//! The served OpenAPI document is the committed one (`docs/openapi.json`), and it
//! documents every route the server has.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use serde_json::Value;

#[test]
fn committed_document_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .expect("docs/openapi.json is committed");
    let generated = mentorsync_server::api::openapi::document();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `cargo run -p mentorsync-server -- openapi > docs/openapi.json`"
    );
}

#[test]
fn every_route_is_documented() {
    let doc: Value = serde_json::from_str(&mentorsync_server::api::openapi::document()).unwrap();
    let documented: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/mod.rs")).unwrap();
    // Routes as written in the source, however rustfmt wraps them.
    let routes: Vec<&str> = source
        .split(".route(")
        .skip(1)
        .filter_map(|r| r.split('"').nth(1))
        .collect();
    assert!(routes.len() > 20, "found only {} routes", routes.len());
    for path in routes {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        assert!(
            documented.iter().any(|d| d.as_str() == path),
            "route {path} is not in the OpenAPI document"
        );
    }
}

/// Every `$ref` points at a component that exists (schemathesis refuses to test an
/// operation whose schema it cannot resolve, which is how six of them once went untested).
#[test]
fn every_reference_resolves() {
    fn walk<'a>(v: &'a Value, refs: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.push(r);
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let doc: Value = serde_json::from_str(&mentorsync_server::api::openapi::document()).unwrap();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(refs.len() > 50, "found only {} references", refs.len());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not exist in the document"
        );
    }
}

/// A parameter is declared where it travels: `in: path` exactly for the `{name}`s of the
/// path template (required), everything else in the query. A generated client builds its
/// URLs from this, so a query parameter declared as a path parameter breaks every call.
#[test]
fn parameters_are_declared_where_they_travel() {
    let doc: Value = serde_json::from_str(&mentorsync_server::api::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let placeholders: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split('}').next())
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                let place = p["in"].as_str().unwrap();
                match place {
                    "path" => {
                        assert!(
                            placeholders.contains(&name),
                            "{method} {path}: `{name}` is declared in the path but is not in it"
                        );
                        assert_eq!(p["required"], true, "{method} {path}: `{name}`");
                    }
                    "query" | "header" => assert!(
                        !placeholders.contains(&name),
                        "{method} {path}: `{name}` is in the path but declared in the {place}"
                    ),
                    other => panic!("{method} {path}: `{name}` in {other}"),
                }
            }
            for name in &placeholders {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == *name && p["in"] == "path"),
                    "{method} {path}: the placeholder `{name}` is not declared"
                );
            }
        }
    }
}
