#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The authorization matrix, generated from each domain's model and policy
//! so that a new entity is covered without a new test.
//!
//! On the demo data (two tenants per domain), a caller of tenant A, with
//! every permission of its domain but confined to its tenant, tries every
//! read path on tenant B's rows (list, get-by-id, relations from its own
//! rows, filters through relations, `totalCount`) and every write (update,
//! delete, upsert) on one of B's rows of each entity. Zero rows may leak,
//! every write must be refused, and B's row must be unchanged. A caller
//! without permissions is refused every guarded read and write.

use std::collections::BTreeSet;

use gateway::engine::model::{EntityInfo, Model, RelKind};
use gateway::policy::{Policy, Rule};
use gateway_tests::{Backend, TestApp, on_both_backends, operator_token, token};
use serde_json::{Value, json};

fn model_and_policy(domain: &str) -> (Model, Policy) {
    let model = Model::build(&erd::load(domain).unwrap()).unwrap();
    let policy = Policy::parse(&model, gateway::policy::source(domain).unwrap()).unwrap();
    (model, policy)
}

/// Every permission and every role confined to a tenant: the most a
/// tenant's caller can hold.
fn tenant_roles(policy: &Policy) -> Vec<String> {
    let mut roles: Vec<String> = policy
        .roles
        .iter()
        .filter(|(_, r)| !r.all_tenants)
        .map(|(n, _)| n.clone())
        .collect();
    roles.extend(policy.permissions.iter().cloned());
    roles.sort();
    roles
}

fn pk_fields(entity: &EntityInfo) -> Vec<String> {
    entity
        .pk
        .iter()
        .map(|&c| entity.columns[c].gql.clone())
        .collect()
}

fn key_of(node: &Value, pk: &[String]) -> String {
    pk.iter()
        .map(|f| node[f].to_string())
        .collect::<Vec<_>>()
        .join("|")
}

struct Probe<'a> {
    app: &'a TestApp,
    domain: &'a str,
    model: &'a Model,
    probes: usize,
    /// Entities whose upsert was probed.
    upserts: usize,
}

impl Probe<'_> {
    async fn query(&self, token: &str, query: &str, vars: Value) -> Value {
        self.app
            .graphql_as(self.domain, Some(token), query, vars)
            .await
    }

    /// The keys an entity's root list shows to `token`, checked against
    /// its `totalCount`.
    async fn keys(&mut self, token: &str, e: usize) -> BTreeSet<String> {
        let entity = &self.model.entities[e];
        let pk = pk_fields(entity);
        let deleted = if entity.soft_delete.is_some() {
            ", includeDeleted: true"
        } else {
            ""
        };
        let q = format!(
            "{{ {}(first: 10000{deleted}) {{ totalCount nodes {{ {} }} }} }}",
            entity.list_field,
            pk.join(" ")
        );
        let body = self.query(token, &q, json!({})).await;
        assert!(body.get("errors").is_none(), "{} {q}: {body}", self.domain);
        let nodes = body["data"][&entity.list_field]["nodes"]
            .as_array()
            .unwrap();
        let total = body["data"][&entity.list_field]["totalCount"]
            .as_u64()
            .unwrap();
        self.probes += 2;
        assert_eq!(
            total as usize,
            nodes.len(),
            "{}.{}",
            self.domain,
            entity.name
        );
        nodes.iter().map(|n| key_of(n, &pk)).collect()
    }

    fn key_args(&self, e: usize, key: &str) -> (String, String, Value) {
        let entity = &self.model.entities[e];
        let values: Vec<Value> = key
            .split('|')
            .map(|v| serde_json::from_str(v).unwrap())
            .collect();
        let mut decl = Vec::new();
        let mut args = Vec::new();
        let mut vars = serde_json::Map::new();
        for (&c, value) in entity.pk.iter().zip(values) {
            let column = &entity.columns[c];
            let ty = column.scalar.type_name(self.model);
            decl.push(format!("${}: {ty}!", column.gql));
            args.push(format!("{0}: ${0}", column.gql));
            vars.insert(column.gql.clone(), value);
        }
        (decl.join(", "), args.join(", "), Value::Object(vars))
    }

    /// The fields of an input type.
    async fn input_fields(&self, name: &str) -> Vec<String> {
        let body = self
            .query(
                &operator_token(self.domain),
                "query($n: String!) { __type(name: $n) { inputFields { name } } }",
                json!({ "n": name }),
            )
            .await;
        body["data"]["__type"]["inputFields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A row as the operator reads it: the given fields that are also
    /// output fields.
    async fn row(&self, e: usize, key: &str, fields: &[String]) -> Value {
        let entity = &self.model.entities[e];
        let readable: Vec<&String> = fields
            .iter()
            .filter(|f| entity.public_columns().any(|(_, c)| &c.gql == *f))
            .collect();
        let (decl, args, vars) = self.key_args(e, key);
        let pk = pk_fields(entity).join(" ");
        let selection = readable
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let q = format!(
            "query({decl}) {{ row: {}({args}) {{ {pk} {selection} }} }}",
            entity.get_field
        );
        let body = self.query(&operator_token(self.domain), &q, vars).await;
        assert!(body.get("errors").is_none(), "{q}: {body}");
        body["data"]["row"].clone()
    }

    /// `mutation` must fail, returning no data.
    async fn refused(&mut self, token: &str, q: &str, vars: Value, what: &str) {
        let body = self.query(token, q, vars).await;
        let errors = body["errors"].as_array();
        assert!(
            errors.is_some_and(|e| !e.is_empty()),
            "{}: {what} was not refused: {body}",
            self.domain
        );
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        assert!(
            [
                "NOT_FOUND",
                "FORBIDDEN",
                "BAD_USER_INPUT",
                "CONFLICT",
                "UNAUTHENTICATED"
            ]
            .contains(&code),
            "{}: {what}: unexpected {body}",
            self.domain
        );
        assert!(body["data"].is_null(), "{}: {what}: {body}", self.domain);
        self.probes += 1;
    }

    /// Update, delete and upsert of row `key` of entity `e` as `token`: all
    /// refused, the row unchanged.
    async fn writes_refused(&mut self, token: &str, e: usize, key: &str) {
        let entity = &self.model.entities[e];
        let name = &entity.name;
        let update_fields = self.input_fields(&format!("Update{name}Input")).await;
        let create_fields = self.input_fields(&format!("Create{name}Input")).await;
        let mut all_fields = update_fields.clone();
        all_fields.extend(create_fields.iter().cloned());
        all_fields.extend(
            entity
                .columns
                .iter()
                .filter(|c| c.name == "updated_at")
                .map(|c| c.gql.clone()),
        );
        let before = self.row(e, key, &all_fields).await;
        assert!(!before.is_null(), "{}.{name} {key} must exist", self.domain);
        let (decl, args, mut vars) = self.key_args(e, key);
        let input_of = |fields: &[String]| -> Value {
            let mut input = serde_json::Map::new();
            for f in fields {
                if let Some(v) = before.get(f) {
                    input.insert(f.clone(), v.clone());
                }
            }
            Value::Object(input)
        };
        if !update_fields.is_empty() {
            vars["input"] = input_of(&update_fields);
            let q = format!(
                "mutation({decl}, $input: Update{name}Input!) {{ update{name}({args}, input: $input) {{ __typename }} }}"
            );
            self.refused(token, &q, vars.clone(), &format!("update{name}"))
                .await;
        }
        let q = format!("mutation({decl}) {{ delete{name}({args}) {{ __typename }} }}");
        let (_, _, key_vars) = self.key_args(e, key);
        self.refused(token, &q, key_vars, &format!("delete{name}"))
            .await;
        if self.enum_exists(&format!("{name}ConflictKey")).await {
            self.upserts += 1;
            let q = format!(
                "mutation($input: Create{name}Input!) {{ upsert{name}(input: $input) {{ __typename }} }}"
            );
            self.refused(
                token,
                &q,
                json!({ "input": input_of(&create_fields) }),
                &format!("upsert{name}"),
            )
            .await;
        }
        let after = self.row(e, key, &all_fields).await;
        assert_eq!(before, after, "{}.{name} {key} changed", self.domain);
    }

    async fn enum_exists(&self, name: &str) -> bool {
        let body = self
            .query(
                &operator_token(self.domain),
                "query($n: String!) { __type(name: $n) { kind } }",
                json!({ "n": name }),
            )
            .await;
        body["data"]["__type"]["kind"] == "ENUM"
    }
}

async fn tenant_matrix(backend: Backend, domain: &str) {
    let Some(app) = TestApp::spawn_with_demo(backend, &[domain]).await else {
        return;
    };
    let (model, policy) = model_and_policy(domain);
    let tenant = policy.tenant.clone().unwrap();
    let root = operator_token(domain);
    let mut p = Probe {
        app: &app,
        domain,
        model: &model,
        probes: 0,
        upserts: 0,
    };
    // The two tenants, by their claim's column.
    let t = &model.entities[tenant.entity];
    let key_field = &t.columns[tenant.column].gql;
    let body = app
        .data(
            domain,
            &format!(
                "{{ {}(first: 2) {{ nodes {{ {key_field} }} }} }}",
                t.list_field
            ),
            json!({}),
        )
        .await;
    let claims: Vec<String> = body[&t.list_field]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| match &n[key_field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(claims.len(), 2, "{domain} needs two tenants");
    let roles = tenant_roles(&policy);
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let a = token(domain, None, Some(&claims[0]), &roles);
    let b = token(domain, None, Some(&claims[1]), &roles);

    // Whose rows are whose.
    let exposed: Vec<usize> = (0..model.entities.len())
        .filter(|&e| model.entities[e].exposed)
        .collect();
    let mut of_a = vec![BTreeSet::new(); model.entities.len()];
    let mut of_b = vec![BTreeSet::new(); model.entities.len()];
    let mut scoped = Vec::new();
    let mut shared = Vec::new();
    for &e in &exposed {
        let name = &model.entities[e].name;
        if policy.entity(e).unwrap().tenant.is_none() {
            shared.push(name.clone());
            continue;
        }
        scoped.push(e);
        let all = p.keys(&root, e).await;
        of_a[e] = p.keys(&a, e).await;
        of_b[e] = p.keys(&b, e).await;
        assert!(
            !of_a[e].is_empty() && !of_b[e].is_empty(),
            "{domain}.{name}: both tenants must own rows (A {}, B {})",
            of_a[e].len(),
            of_b[e].len()
        );
        assert!(
            of_a[e].is_disjoint(&of_b[e]),
            "{domain}.{name}: rows seen by both tenants"
        );
        assert!(of_a[e].is_subset(&all) && of_b[e].is_subset(&all));
    }

    for &e in &scoped {
        let entity = &model.entities[e];
        // Get-by-id of B's rows.
        for key in of_b[e].iter().take(2) {
            let (decl, args, vars) = p.key_args(e, key);
            let q = format!(
                "query({decl}) {{ row: {}({args}) {{ __typename }} }}",
                entity.get_field
            );
            let body = p.query(&a, &q, vars).await;
            assert!(
                body["data"]["row"].is_null() && body.get("errors").is_none(),
                "{domain}.{}: A read B's row {key}: {body}",
                entity.name
            );
            p.probes += 1;
        }
        // Relations from A's own rows, and filters through them.
        let pk = pk_fields(entity).join(" ");
        for relation in &entity.relations {
            let target = &model.entities[relation.target];
            if policy.entity(relation.target).unwrap().tenant.is_none() {
                continue;
            }
            let tpk = pk_fields(target);
            let rel = &relation.gql;
            let (selection, many) = match relation.kind {
                RelKind::BelongsTo { .. } | RelKind::HasOne { .. } => {
                    (format!("{rel} {{ {} }}", tpk.join(" ")), false)
                }
                _ => (
                    format!(
                        "{rel}(first: 10000) {{ totalCount nodes {{ {} }} }}",
                        tpk.join(" ")
                    ),
                    true,
                ),
            };
            let q = format!(
                "{{ {}(first: 10000) {{ nodes {{ {pk} {selection} }} }} }}",
                entity.list_field
            );
            let body = p.query(&a, &q, json!({})).await;
            assert!(body.get("errors").is_none(), "{q}: {body}");
            for node in body["data"][&entity.list_field]["nodes"]
                .as_array()
                .unwrap()
            {
                let related: Vec<&Value> = if many {
                    let n = node[rel]["nodes"].as_array().unwrap();
                    assert_eq!(node[rel]["totalCount"].as_u64().unwrap() as usize, n.len());
                    n.iter().collect()
                } else if node[rel].is_null() {
                    Vec::new()
                } else {
                    vec![&node[rel]]
                };
                for r in related {
                    let k = key_of(r, &tpk);
                    assert!(
                        !of_b[relation.target].contains(&k),
                        "{domain}.{}.{rel} leaked B's {} {k}",
                        entity.name,
                        target.name
                    );
                }
            }
            p.probes += 1;
            if let (RelKind::BelongsTo { .. }, [tpk_field]) = (&relation.kind, tpk.as_slice()) {
                let keys: Vec<Value> = of_b[relation.target]
                    .iter()
                    .map(|k| serde_json::from_str(k).unwrap())
                    .collect();
                let q = format!(
                    "query($keys: [{ty}!]) {{ {list}(filter: {{ {rel}: {{ {tpk_field}: {{ in: $keys }} }} }}) {{ totalCount nodes {{ {pk} }} }} }}",
                    ty = target.columns[target.single_pk().unwrap()]
                        .scalar
                        .type_name(&model),
                    list = entity.list_field,
                );
                let body = p.query(&a, &q, json!({ "keys": keys })).await;
                assert!(body.get("errors").is_none(), "{q}: {body}");
                assert_eq!(
                    body["data"][&entity.list_field]["totalCount"], 0,
                    "{domain}.{} filtered through {rel} to B's rows: {body}",
                    entity.name
                );
                p.probes += 1;
            }
        }
    }

    // Every write on one of B's rows of each entity.
    for &e in &scoped {
        let key = of_b[e].iter().next().unwrap().clone();
        p.writes_refused(&a, e, &key).await;
    }
    // Every entity with a unique key besides its primary key has an upsert.
    let erd_domain = erd::load(domain).unwrap();
    let unique_keyed = scoped
        .iter()
        .filter(|&&e| {
            let info = &model.entities[e];
            let erd_entity = erd_domain.entity(&info.name).unwrap();
            !gateway::engine::mutation::conflict_keys(info, erd_entity).is_empty()
        })
        .count();
    assert_eq!(p.upserts, unique_keyed, "{domain}: upserts probed");
    println!(
        "{domain} ({backend:?}): {} tenant probes over {} tenant-scoped entities ({} upserts), 0 rows leaked, every write refused; {} shared entities: {}",
        p.probes,
        scoped.len(),
        p.upserts,
        shared.len(),
        shared.join(", ")
    );
}

/// A caller with no permission, in tenant A: every read and write that
/// needs one is FORBIDDEN.
async fn permission_matrix(backend: Backend, domain: &str) {
    let Some(app) = TestApp::spawn_with_demo(backend, &[domain]).await else {
        return;
    };
    let (model, policy) = model_and_policy(domain);
    let tenant = policy.tenant.as_ref().map(|_| "1");
    let nobody = token(domain, None, tenant, &[]);
    let mut p = Probe {
        app: &app,
        domain,
        model: &model,
        probes: 0,
        upserts: 0,
    };
    let root = operator_token(domain);
    for e in (0..model.entities.len()).filter(|&e| model.entities[e].exposed) {
        let entity = &model.entities[e];
        let rules = policy.entity(e).unwrap();
        let guarded = |r: &Rule| matches!(r, Rule::AnyOf(_));
        let q = format!("{{ {}(first: 1) {{ totalCount }} }}", entity.list_field);
        let body = p.query(&nobody, &q, json!({})).await;
        if guarded(&rules.read) {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{domain}.{} read: {body}",
                entity.name
            );
            assert!(body["data"].is_null());
        } else {
            assert!(body.get("errors").is_none(), "{body}");
        }
        p.probes += 1;
        // An append-only entity has no delete to probe (its schema offers
        // creates only: `telemetry_events_are_only_appended`).
        if guarded(&rules.write) && !rules.append_only {
            let key = p.keys(&root, e).await.into_iter().next();
            if let Some(key) = key {
                let name = &entity.name;
                let (decl, args, vars) = p.key_args(e, &key);
                let q = format!("mutation({decl}) {{ delete{name}({args}) {{ __typename }} }}");
                let body = p.query(&nobody, &q, vars).await;
                assert_eq!(
                    body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                    "{domain}.{name} delete: {body}"
                );
                p.probes += 1;
            }
        }
    }
    // Anonymous: nothing of any domain without a token.
    let anonymous_readable = (0..model.entities.len())
        .filter(|&e| model.entities[e].exposed)
        .filter(|&e| matches!(policy.entity(e).unwrap().read, Rule::Anyone))
        .count();
    assert_eq!(anonymous_readable, 0, "{domain}: anonymous reads");
    let first = (0..model.entities.len())
        .find(|&e| model.entities[e].exposed)
        .unwrap();
    let q = format!(
        "{{ {}(first: 1) {{ totalCount }} }}",
        model.entities[first].list_field
    );
    let body = app.graphql_as(domain, None, &q, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    println!(
        "{domain} ({backend:?}): {} permission probes, all refused as the policy says",
        p.probes
    );
}

async fn iaso_matrix(backend: Backend) {
    tenant_matrix(backend, "iaso").await;
}
async fn opentalk_matrix(backend: Backend) {
    tenant_matrix(backend, "opentalk").await;
}
async fn placeos_matrix(backend: Backend) {
    tenant_matrix(backend, "placeos").await;
}
async fn telemetry_matrix(backend: Backend) {
    tenant_matrix(backend, "telemetry").await;
}
async fn permissions_of_every_domain(backend: Backend) {
    for domain in erd::domain_names() {
        permission_matrix(backend, domain).await;
    }
}

on_both_backends!(
    iaso_matrix,
    opentalk_matrix,
    placeos_matrix,
    telemetry_matrix,
    permissions_of_every_domain
);

/// Every domain with tenants is in the matrix above; the others have none.
#[test]
fn every_domain_with_tenants_is_in_the_matrix() {
    let with_tenants: Vec<&str> = erd::domain_names()
        .filter(|d| model_and_policy(d).1.tenant.is_some())
        .collect();
    assert_eq!(with_tenants, ["iaso", "opentalk", "placeos", "telemetry"]);
}
