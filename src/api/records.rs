//! `/api/2.0/fo/auth/{vmware,unix,vcenter}/`: create, update, delete and list
//! authentication records. VMware is the documented endpoint; Unix and vCenter
//! share its flow so the cross-type rules can be reached through the API.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use compact_str::CompactString;

use crate::domain::change::RecordChange;
use crate::domain::record::{RecordKind, Stamp};
use crate::domain::store::ListQuery;
use crate::state::{AppState, StoreRef};
use crate::xml::batch_return::{self, Batch};
use crate::xml::record_list::{self, Details, PageWarning};
use crate::xml::DocContext;

use super::access_log;
use super::auth::Caller;
use super::batch;
use super::call::{xml_response, Call};
use super::error::ApiError;
use super::gate;
use super::params;
use super::record_params::{self, FieldContext};

/// Returns the record kind whose route is `path`: `/api/2.0/fo/auth/{kind}/`,
/// with or without the trailing slash.
pub(crate) fn kind_for_path(path: &str) -> Option<RecordKind> {
    let name = path.strip_prefix("/api/2.0/fo/auth/")?;
    let name = name.strip_suffix('/').unwrap_or(name);
    RecordKind::ALL.into_iter().find(|kind| kind.name() == name)
}

/// Serves a call to the route of `kind`, with the API checks in front. The
/// app calls it without a router, as these are the busiest routes.
pub(crate) async fn handle(state: &AppState, kind: RecordKind, request: Request) -> Response {
    gate::checked(
        state,
        gate::Checks::CallerAndHeader,
        request,
        move |request, caller| serve(state, kind, request, caller),
    )
    .await
}

/// The `action` values, and the parameters every action takes.
const ACTIONS: &[&str] = &["create", "update", "delete", "list"];
const COMMON_PARAMS: &[&str] = &["action", "echo_request"];
const IP_CHANGES: &[&str] = &["add_ips", "remove_ips"];
const LIST_PARAMS: &[&str] = &["ids", "id_min", "id_max", "details", "title", "comments"];

async fn serve(
    state: &AppState,
    kind: RecordKind,
    request: Request,
    caller: Option<Caller>,
) -> Response {
    let call = match Call::accept(state, request, caller).await {
        Ok(call) => call,
        Err(rejection) => return rejection,
    };
    let action_param = call.params.get("action");
    let sent = action_param.unwrap_or_default();
    let action = ACTIONS.iter().find(|name| name.eq_ignore_ascii_case(sent));
    let result = match action {
        _ if sent.is_empty() => Err(ApiError::MissingParams(vec!["action"])),
        Some(&"create") => create(state, kind, &call),
        Some(&"update") => update(state, kind, &call),
        Some(&"delete") => delete(state, kind, &call),
        Some(&"list") => list(state, kind, &call),
        _ => Err(ApiError::invalid(
            "action",
            sent,
            format!("expected one of {}", ACTIONS.join(", ")),
        )),
    };
    let response = result.unwrap_or_else(|error| call.error(error));
    let action = action_param.map(CompactString::new);
    let params = call.params.into_masked();
    access_log::note(|summary| {
        summary.action = action;
        summary.params = params;
    });
    response
}

/// `action=create`: one record, returned with its new ID.
fn create(state: &AppState, kind: RecordKind, call: &Call) -> Result<Response, ApiError> {
    call.require_post("create")?;
    let [fields, vault, vsphere] = record_params::field_groups(kind);
    call.params
        .reject_unknown(&[COMMON_PARAMS, fields, vault, vsphere])?;

    let change = read_change(state, kind, call)?;
    let fields = record_params::fields_for_create(change, kind, &call.params)?;
    let result = call_store(state, call)
        .write()
        .create(kind, fields, stamp(state, call));

    // Per-record failures travel inside a 200 BATCH_RETURN, as for update
    // and delete: clients read any non-2xx body as SIMPLE_RETURN.
    let batch = match result {
        Ok(id) => Batch {
            code: None,
            text: "Successfully Created".to_owned(),
            ids: [id].into_iter().collect(),
        },
        Err(error) => {
            let (code, text) = batch::describe(kind, &error);
            Batch {
                code: Some(code),
                text,
                ids: Default::default(),
            }
        }
    };
    Ok(batch_response(StatusCode::OK, &call.ctx, &[batch]))
}

/// `action=update`: the same change applied to every record in `ids`.
fn update(state: &AppState, kind: RecordKind, call: &Call) -> Result<Response, ApiError> {
    call.require_post("update")?;
    let [fields, vault, vsphere] = record_params::field_groups(kind);
    call.params
        .reject_unknown(&[COMMON_PARAMS, &["ids"], fields, vault, vsphere, IP_CHANGES])?;

    let ids = params::ids(&call.params, "ids")?.ok_or(ApiError::MissingParams(vec!["ids"]))?;
    let change = read_change(state, kind, call)?;
    if change.is_empty() {
        let changeable = [fields, vault, vsphere, IP_CHANGES].concat();
        return Err(ApiError::AtLeastOne(changeable));
    }
    let outcome = call_store(state, call)
        .write()
        .update(kind, &ids, &change, &stamp(state, call));

    let batches = batch::batches(kind, outcome, "Successfully Updated");
    Ok(batch_response(StatusCode::OK, &call.ctx, &batches))
}

/// `action=delete`: every record in `ids`.
fn delete(state: &AppState, kind: RecordKind, call: &Call) -> Result<Response, ApiError> {
    call.require_post("delete")?;
    call.params.reject_unknown(&[COMMON_PARAMS, &["ids"]])?;

    let ids = params::ids(&call.params, "ids")?.ok_or(ApiError::MissingParams(vec!["ids"]))?;
    let outcome = call_store(state, call).write().delete(kind, &ids);

    let batches = batch::batches(kind, outcome, "Successfully Deleted");
    Ok(batch_response(StatusCode::OK, &call.ctx, &batches))
}

/// `action=list`: one page of matching records, over GET or POST.
fn list(state: &AppState, kind: RecordKind, call: &Call) -> Result<Response, ApiError> {
    call.params.reject_unknown(&[COMMON_PARAMS, LIST_PARAMS])?;

    let query = read_list_query(call)?;
    let details = params::choice(
        &call.params,
        "details",
        &[
            ("None", Details::None),
            ("Basic", Details::Basic),
            ("All", Details::All),
        ],
    )?
    .unwrap_or_default();
    let page_size = state.settings.page_size.max(1);
    let page = call_store(state, call).read().list(kind, &query, page_size);

    let warning = page.next_id.map(|next| PageWarning {
        next_url: next_page_url(call, kind, next),
    });
    let body = record_list::render(&call.ctx, kind, &page.records, details, warning.as_ref());
    Ok(xml_response(StatusCode::OK, body))
}

/// Renders BATCH_RETURN, logging the first failure code among the batches.
fn batch_response(status: StatusCode, ctx: &DocContext, batches: &[Batch]) -> Response {
    let response = xml_response(status, batch_return::render(ctx, batches));
    let code = batches.iter().find_map(|batch| batch.code);
    access_log::note(|summary| summary.code = code);
    response
}

pub(crate) fn read_list_query(call: &Call) -> Result<ListQuery, ApiError> {
    let params = &call.params;
    let title_rule = params::TextRule::ascii(255);
    let comments_rule = params::TextRule {
        max_len: 1999,
        ascii: false,
        multiline: true,
        secret: false,
    };
    Ok(ListQuery {
        ids: params::ids(params, "ids")?,
        id_min: params::integer(params, "id_min", 1, u64::MAX)?,
        id_max: params::integer(params, "id_max", 1, u64::MAX)?,
        title: params::text(params, "title", title_rule)?,
        comments: params::text(params, "comments", comments_rule)?,
    })
}

/// The URL of the next page: the same call with `id_min` set to the first ID
/// not yet shown.
fn next_page_url(call: &Call, kind: RecordKind, next_id: u64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in call.params.pairs_except("id_min") {
        query.append_pair(key, value);
    }
    query.append_pair("id_min", &next_id.to_string());
    format!(
        "{}/api/2.0/fo/auth/{}/?{}",
        call.ctx.base_url,
        kind.name(),
        query.finish()
    )
}

/// Reads the record parameters against the networks configured now.
fn read_change(state: &AppState, kind: RecordKind, call: &Call) -> Result<RecordChange, ApiError> {
    let directory = state.directory.load();
    let ctx = FieldContext {
        kind,
        networks: directory.networks.as_deref(),
    };
    record_params::read_change(&call.params, ctx)
}

fn stamp(state: &AppState, call: &Call) -> Stamp {
    Stamp {
        at: state.now(),
        by: call.caller.login.clone().into(),
    }
}

fn call_store<'a>(state: &'a AppState, call: &Call) -> StoreRef<'a> {
    state.stores.for_login(&call.caller.login)
}
