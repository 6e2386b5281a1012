//! The OpenAPI 3.1 document of the JSON calls, generated from the descriptor
//! set: one `POST` operation per unary method, a schema per message and enum
//! in the proto3 JSON mapping (64-bit integers as strings, enums by name,
//! timestamps as RFC 3339), the Connect error body, and the bearer scheme.
//! The comments of the `.proto` files become the descriptions.

use prost_reflect::{
    DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
};
use prost_types::FileDescriptorProto;
use serde_json::{Map, Value, json};

use super::{is_unary, path_of};

/// The document for every unary method of the `rapport.` services in `pool`
/// and gRPC health.
pub fn document(pool: &DescriptorPool) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut pending: Vec<MessageDescriptor> = Vec::new();
    let mut tags = Vec::new();
    for service in pool.services() {
        let name = service.full_name().to_owned();
        if !(name.starts_with("rapport.") || name == "grpc.health.v1.Health") {
            continue;
        }
        let mut served = false;
        for m in service.methods().filter(is_unary) {
            served = true;
            pending.push(m.input());
            pending.push(m.output());
            paths.insert(path_of(&m), json!({ "post": operation(&m) }));
        }
        if served {
            let mut tag = json!({ "name": name });
            if let Some(text) = comment(service.parent_file_descriptor_proto(), service.path()) {
                tag["description"] = Value::String(text);
            }
            tags.push(tag);
        }
    }
    while let Some(m) = pending.pop() {
        let key = m.full_name().to_owned();
        if schemas.contains_key(&key) || well_known(m.full_name()).is_some() {
            continue;
        }
        // Reserve the name first: messages may refer to themselves.
        schemas.insert(key.clone(), Value::Null);
        let schema = message_schema(&m, &mut pending, &mut schemas);
        schemas.insert(key, schema);
    }
    import_paths(&mut paths, &mut schemas);
    if !paths.is_empty() {
        tags.push(json!({
            "name": "import",
            "description": "CSV files as `rapport import` reads them, posted as they are.",
        }));
    }
    schemas.insert(
        "connect.error".into(),
        json!({
            "type": "object",
            "description": "A failed call: the gRPC code's name (invalid_argument, not_found, unauthenticated, ...), \
                            what went wrong, and details such as the fields that were refused (google.rpc.BadRequest, \
                            readable under `debug`).",
            "properties": {
                "code": { "type": "string" },
                "message": { "type": "string" },
                "report": {
                    "allOf": [{ "$ref": "#/components/schemas/import.report" }],
                    "description": "Of a CSV import only: what was done before it stopped."
                },
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": { "type": "string" },
                            "value": { "type": "string", "contentEncoding": "base64" },
                            "debug": {}
                        }
                    }
                }
            },
            "required": ["code"]
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rapport",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every unary RPC of the Rapport services, as JSON over HTTP (the Connect protocol's \
                            unary JSON): POST the request message as JSON to /<service>/<method> with \
                            `Content-Type: application/json` and `Authorization: Bearer <api key>` \
                            (`Bearer <admin token>` for rapport.v1.AdminService, the operator's). \
                            Field names are the proto3 JSON names; 64-bit integers are strings. \
                            Streaming RPCs are served over gRPC only.",
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A tenant API key (`rapport tenant create`, `rapport tenant keys create`)."
                },
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The operator's admin token (RAPPORT_ADMIN_TOKEN), for rapport.v1.AdminService \
                                    only; it names no tenant, so no other call takes it."
                }
            }
        },
        "security": [{ "apiKey": [] }]
    })
}

fn operation(m: &MethodDescriptor) -> Value {
    let service = m.parent_service();
    let mut op = json!({
        "operationId": format!("{}.{}", service.name(), m.name()),
        "tags": [service.full_name()],
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": reference(&m.input()) } }
        },
        "responses": {
            "200": {
                "description": "The call's answer.",
                "content": { "application/json": { "schema": reference(&m.output()) } }
            },
            "default": {
                "description": "The call failed; the HTTP status follows the code (400 invalid_argument, \
                                401 unauthenticated, 403 permission_denied, 404 not_found, 429 \
                                resource_exhausted, 503 unavailable, ...).",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/connect.error" } } }
            }
        }
    });
    if let Some(text) = comment(service.parent_file_descriptor_proto(), m.path()) {
        op["description"] = Value::String(text);
    }
    if service.full_name() == crate::auth::ADMIN_SERVICE {
        op["security"] = json!([{ "adminToken": [] }]);
    }
    if service.full_name() == "grpc.health.v1.Health" {
        op["security"] = json!([]);
    }
    op
}

/// `POST /v1/import/customers` and `/v1/import/transactions`: a `text/csv`
/// body, the import's report as JSON.
fn import_paths(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    use crate::import::{Customers, Kind, MAX_BATCH, Transactions};
    for (what, required, service) in [
        ("customers", Customers::REQUIRED, Customers::SERVICE),
        (
            "transactions",
            Transactions::REQUIRED,
            Transactions::SERVICE,
        ),
    ] {
        paths.insert(
            format!("/v1/import/{what}"),
            json!({ "post": {
                "operationId": format!("import.{what}"),
                "tags": ["import"],
                "description": format!(
                    "Imports {what} from CSV with the columns of `rapport import {what}` (required: {}), \
                     read as the body arrives and sent in batches to {service} (served on its port). \
                     Idempotent: posting the same file again stores nothing twice.",
                    required.join(", ")
                ),
                "parameters": [
                    {
                        "name": "source", "in": "query", "required": false,
                        "description": "Source system of rows without a `source` column.",
                        "schema": { "type": "string", "default": "erp" }
                    },
                    {
                        "name": "batch_size", "in": "query", "required": false,
                        "description": "Rows per batch.",
                        "schema": { "type": "integer", "minimum": 1, "maximum": MAX_BATCH, "default": 1000 }
                    }
                ],
                "requestBody": {
                    "required": true,
                    "content": { "text/csv": { "schema": { "type": "string" } } }
                },
                "responses": {
                    "200": {
                        "description": "The import's report.",
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/import.report" } } }
                    },
                    "default": {
                        "description": "The import stopped (bad CSV, a batch refused as a whole); `report` \
                                        says what was stored before.",
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/connect.error" } } }
                    }
                }
            }}),
        );
    }
    let count = || json!({ "type": "integer", "minimum": 0 });
    schemas.insert(
        "import.report".into(),
        json!({
            "type": "object",
            "description": "What a CSV import did: counts, and the problems of refused rows by file line \
                            (the header is line 1) and CSV column.",
            "properties": {
                "rows": count(),
                "stored": count(),
                "updated": count(),
                "unchanged": count(),
                "customersCreated": count(),
                "rejectedRows": count(),
                "rejected": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "line": count(),
                            "field": { "type": "string" },
                            "reason": { "type": "string" }
                        }
                    }
                },
                "rejectedTruncated": { "type": "boolean" },
                "lastLineStored": count()
            }
        }),
    );
}

fn reference(m: &MessageDescriptor) -> Value {
    well_known(m.full_name())
        .unwrap_or_else(|| json!({ "$ref": format!("#/components/schemas/{}", m.full_name()) }))
}

/// The JSON form of the well-known types, inline.
fn well_known(name: &str) -> Option<Value> {
    Some(match name {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" => {
            json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$" })
        }
        "google.protobuf.Empty" => json!({ "type": "object" }),
        "google.protobuf.Struct" => json!({ "type": "object" }),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.ListValue" => json!({ "type": "array" }),
        "google.protobuf.FieldMask" => json!({ "type": "string" }),
        "google.protobuf.Any" => {
            json!({ "type": "object", "properties": { "@type": { "type": "string" } } })
        }
        "google.protobuf.BoolValue" => json!({ "type": ["boolean", "null"] }),
        "google.protobuf.StringValue" => json!({ "type": ["string", "null"] }),
        "google.protobuf.BytesValue" => {
            json!({ "type": ["string", "null"], "contentEncoding": "base64" })
        }
        "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => {
            json!({ "type": ["number", "null"] })
        }
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => {
            json!({ "type": ["integer", "null"] })
        }
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => {
            json!({ "type": ["string", "null"], "format": "int64" })
        }
        _ => return None,
    })
}

fn message_schema(
    m: &MessageDescriptor,
    pending: &mut Vec<MessageDescriptor>,
    schemas: &mut Map<String, Value>,
) -> Value {
    let mut properties = Map::new();
    for f in m.fields() {
        let mut schema = field_schema(&f, pending, schemas);
        if let Some(text) = comment(m.parent_file_descriptor_proto(), f.path())
            && let Value::Object(o) = &mut schema
        {
            // A `$ref` takes no siblings in older tools; wrap it.
            if o.contains_key("$ref") {
                schema = json!({ "allOf": [schema], "description": text });
            } else {
                o.insert("description".into(), Value::String(text));
            }
        }
        properties.insert(f.json_name().to_owned(), schema);
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if let Some(text) = comment(m.parent_file_descriptor_proto(), m.path()) {
        schema["description"] = Value::String(text);
    }
    schema
}

fn field_schema(
    f: &FieldDescriptor,
    pending: &mut Vec<MessageDescriptor>,
    schemas: &mut Map<String, Value>,
) -> Value {
    if f.is_map()
        && let Kind::Message(entry) = f.kind()
    {
        let value = entry.map_entry_value_field();
        return json!({
            "type": "object",
            "additionalProperties": kind_schema(&value.kind(), pending, schemas),
        });
    }
    let item = kind_schema(&f.kind(), pending, schemas);
    if f.is_list() {
        json!({ "type": "array", "items": item })
    } else {
        item
    }
}

fn kind_schema(
    kind: &Kind,
    pending: &mut Vec<MessageDescriptor>,
    schemas: &mut Map<String, Value>,
) -> Value {
    match kind {
        Kind::Double | Kind::Float => json!({ "type": "number" }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({ "type": "integer", "format": "int32" })
        }
        Kind::Uint32 | Kind::Fixed32 => json!({ "type": "integer", "minimum": 0 }),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            json!({ "type": "string", "format": "int64" })
        }
        Kind::Uint64 | Kind::Fixed64 => json!({ "type": "string", "format": "uint64" }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::String => json!({ "type": "string" }),
        Kind::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
        Kind::Enum(e) => {
            let key = e.full_name().to_owned();
            if !schemas.contains_key(&key) {
                schemas.insert(key.clone(), enum_schema(e));
            }
            json!({ "$ref": format!("#/components/schemas/{key}") })
        }
        Kind::Message(m) => {
            pending.push(m.clone());
            reference(m)
        }
    }
}

fn enum_schema(e: &EnumDescriptor) -> Value {
    let names: Vec<Value> = e
        .values()
        .map(|v| Value::String(v.name().to_owned()))
        .collect();
    let mut schema = json!({ "type": "string", "enum": names });
    if let Some(text) = comment(e.parent_file_descriptor_proto(), e.path()) {
        schema["description"] = Value::String(text);
    }
    schema
}

/// The leading comment of the element at `path` in `file`, if the descriptor
/// set kept source info.
fn comment(file: &FileDescriptorProto, path: &[i32]) -> Option<String> {
    let info = file.source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let text = location
        .leading_comments
        .as_deref()
        .or(location.trailing_comments.as_deref())?;
    let text = text
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}
