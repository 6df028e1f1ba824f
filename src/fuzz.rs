//! A property-based fuzz harness over the request path without HTTP: random
//! parameter lists go through parameter reading, the record rules, the store
//! and every XML writer. No input may panic, and every document written must
//! be well-formed XML.
//!
//! The case count comes from `QUALYS_MOCK_FUZZ_CASES` (default 2,000);
//! `scripts/fuzz` runs a million in release mode.

use std::sync::Arc;

use proptest::prelude::*;
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::api::batch;
use crate::api::error::ApiError;
use crate::api::params::{self, Params};
use crate::api::record_params::{self, FieldContext};
use crate::domain::id_set::IdSet;
use crate::domain::record::{RecordKind, Stamp};
use crate::domain::store::{ListQuery, Store, StoreSettings};
use crate::xml::batch_return::{self, Batch};
use crate::xml::record_list::{self, Details, PageWarning};
use crate::xml::{simple_return, DocContext, RequestEcho};

const NAMES: &[&str] = &[
    "action",
    "title",
    "username",
    "password",
    "ips",
    "add_ips",
    "remove_ips",
    "ids",
    "comments",
    "login_type",
    "vault_type",
    "vault_id",
    "secret_name",
    "folder",
    "file",
    "port",
    "hosts",
    "ssl_verify",
    "is_disconect",
    "is_disconnect",
    "network_id",
    "echo_request",
    "details",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,20}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(-[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3})?",
        "[0-9]{1,20}(-[0-9]{1,20})?(,[0-9 -]{1,8}){0,3}",
        "(basic|vault|vcenter|all|skip|none|None|Basic|All|0|1|Azure Key|create|update|list)",
        "[\\x00-\\x1f<&>\"'\\u{fffe}\\u{ffff}\\u{10000}]{0,6}",
        Just("x".repeat(3000)),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => ".{0,8}",
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((name(), value()), 0..12)
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        form.append_pair(key, value);
    }
    form.finish().into_bytes()
}

/// Reads `xml` to the end; panics unless it is well-formed.
fn assert_well_formed(xml: &[u8]) {
    let text = std::str::from_utf8(xml).expect("documents are UTF-8");
    assert!(
        text.chars().all(crate::xml::is_xml_char),
        "character XML forbids in {text}"
    );
    let mut reader = Reader::from_str(text);
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("malformed XML ({error}): {text}"),
        }
    }
    assert_eq!(depth, 0, "unbalanced elements: {text}");
}

fn context(params: &Params) -> DocContext {
    DocContext {
        base_url: "http://fuzz.test".to_owned(),
        datetime: "2020-01-02T03:04:05Z".into(),
        echo: Some(RequestEcho {
            user_login: "fuzz<&>".to_owned(),
            resource: "http://fuzz.test/api/2.0/fo/auth/vmware/".to_owned(),
            params: params.masked(),
        }),
    }
}

fn render_error(ctx: &DocContext, error: &ApiError) {
    let items = error.items();
    assert_well_formed(&simple_return::render(
        ctx,
        Some(error.code()),
        &error.to_string(),
        &items,
    ));
}

/// Runs one parameter list through every step a create or update takes.
fn exercise(store: &mut Store, raw: &[u8]) {
    let params = Params::from_parts(None, raw);
    let ctx = context(&params);
    if let Err(error) = params.check_shape() {
        return render_error(&ctx, &error);
    }
    let stamp = Stamp {
        at: time::OffsetDateTime::UNIX_EPOCH,
        by: "fuzz".to_owned().into(),
    };
    for kind in RecordKind::ALL {
        let field_ctx = FieldContext {
            kind,
            networks: Some(&[0, 7]),
        };
        let change = match record_params::read_change(&params, field_ctx) {
            Ok(change) => change,
            Err(error) => {
                render_error(&ctx, &error);
                continue;
            }
        };
        match record_params::fields_for_create(change.clone(), kind, &params) {
            Ok(fields) => {
                let batch = match store.create(kind, fields, stamp.clone()) {
                    Ok(id) => Batch {
                        code: None,
                        text: "Successfully Created".into(),
                        ids: IdSet::from_iter([id]),
                    },
                    Err(error) => {
                        let (code, text) = batch::describe(kind, &error);
                        Batch {
                            code: Some(code),
                            text,
                            ids: IdSet::new(),
                        }
                    }
                };
                assert_well_formed(&batch_return::render(&ctx, &[batch]));
            }
            Err(error) => render_error(&ctx, &error),
        }
        if let Ok(Some(ids)) = params::ids(&params, "ids") {
            if !change.is_empty() {
                let outcome = store.update(kind, &ids, &change, &stamp);
                assert_well_formed(&batch_return::render(
                    &ctx,
                    &batch::batches(kind, outcome, "Successfully Updated"),
                ));
            }
        }
        let page = store.list(kind, &ListQuery::default(), 50);
        let records: Vec<Arc<_>> = page.records;
        let warning = PageWarning {
            next_url: "http://fuzz.test/?a=1&id_min=2".to_owned(),
        };
        for details in [Details::None, Details::Basic, Details::All] {
            assert_well_formed(&record_list::render(
                &ctx,
                kind,
                &records,
                details,
                Some(&warning),
            ));
        }
    }
}

fn cases() -> u32 {
    std::env::var("QUALYS_MOCK_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn request_path_never_panics_and_writes_xml(batches in prop::collection::vec(pairs(), 1..4)) {
        let mut store = Store::new(StoreSettings { max_records: Some(50), ..StoreSettings::default() });
        for pairs in &batches {
            exercise(&mut store, &encode(pairs));
        }
    }

    #[test]
    fn raw_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut store = Store::new(StoreSettings::default());
        exercise(&mut store, &raw);
    }
}
