//! The record parameters of create and update, read into a [`RecordChange`],
//! and the request-level rules that tie them together.

use crate::domain::change::{IpChange, RecordChange};
use crate::domain::record::{LoginType, RecordFields, RecordKind, Secret, SslVerify};
use crate::domain::vault::{Vault, VaultType, VAULT_EXTRA_PARAMS};

use super::error::ApiError;
use super::params::{self, Params, TextRule};

/// Title: unique, at most 255 ASCII characters.
const TITLE: TextRule = TextRule::ascii(255);
/// Password: at most 100 ASCII characters, never repeated in errors.
const PASSWORD: TextRule = TextRule {
    secret: true,
    ..TextRule::ascii(100)
};
/// Comments: at most 1999 characters of any script, line breaks allowed.
const COMMENTS: TextRule = TextRule {
    max_len: 1999,
    ascii: false,
    multiline: true,
    secret: false,
};
/// Vault-specific fields such as a folder or secret name.
const VAULT_FIELD: TextRule = TextRule::ascii(255);

/// The VMware port used when `port` is not given.
pub(crate) const DEFAULT_PORT: u16 = 443;

/// The parameters every record kind has.
const COMMON_FIELDS: &[&str] = &[
    "title",
    "username",
    "password",
    "login_type",
    "vault_type",
    "vault_id",
    "ips",
    "comments",
    "network_id",
];

/// The parameters of the kinds with vSphere fields.
const VSPHERE_FIELDS: &[&str] = &[
    "port",
    "hosts",
    "ssl_verify",
    "is_disconect",
    "is_disconnect",
];

/// Returns the parameters that describe a record, common to create and
/// update, in groups.
pub(crate) fn field_groups(kind: RecordKind) -> [&'static [&'static str]; 3] {
    let vsphere = if kind.has_vsphere_fields() {
        VSPHERE_FIELDS
    } else {
        &[]
    };
    [COMMON_FIELDS, VAULT_EXTRA_PARAMS, vsphere]
}

/// Server settings that parameter reading depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldContext<'a> {
    /// The record kind being written.
    pub(crate) kind: RecordKind,
    /// The networks that `network_id` may name, when the feature is on.
    pub(crate) networks: Option<&'a [u64]>,
}

/// Reads every record parameter present into a change, checking each value
/// and the combinations that do not depend on a stored record.
pub(crate) fn read_change(
    params: &Params,
    ctx: FieldContext<'_>,
) -> Result<RecordChange, ApiError> {
    params.reject_together(&["ips", "add_ips"])?;
    params.reject_together(&["ips", "remove_ips"])?;
    params.reject_together(&["password", "vault_id"])?;
    params.reject_together(&["is_disconect", "is_disconnect"])?;

    let username_rule = TextRule::ascii(ctx.kind.max_username_len());
    let mut change = RecordChange {
        title: params::non_empty_text(params, "title", TITLE)?,
        username: params::non_empty_text(params, "username", username_rule)?,
        password: params::non_empty_text(params, "password", PASSWORD)?.map(Secret::new),
        login_type: read_login_type(params, ctx.kind)?,
        vault: read_vault(params)?,
        comments: params::text(params, "comments", COMMENTS)?,
        network_id: read_network(params, ctx.networks)?,
        ips: read_ip_change(params)?,
        ..RecordChange::default()
    };
    if ctx.kind.has_vsphere_fields() {
        read_vsphere_fields(params, &mut change)?;
    }
    if change.login_type == Some(LoginType::Vault) && change.vault.is_none() {
        return Err(ApiError::MissingParams(vec!["vault_type", "vault_id"]));
    }
    Ok(change)
}

/// Builds the fields of a new record, applying defaults and the rules that
/// tie fields together.
pub(crate) fn fields_for_create(
    change: RecordChange,
    kind: RecordKind,
    params: &Params,
) -> Result<RecordFields, ApiError> {
    let missing: Vec<&'static str> = [
        ("title", change.title.is_none()),
        ("username", change.username.is_none()),
        ("ips", change.ips.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(ApiError::MissingParams(missing));
    }
    let Some(IpChange::Replace(ips)) = change.ips else {
        let edit = if params.has("add_ips") {
            "add_ips"
        } else {
            "remove_ips"
        };
        return Err(ApiError::UnsupportedCombination(format!(
            "{edit} is valid only with action=update; use ips"
        )));
    };

    let fields = RecordFields {
        title: change.title.unwrap_or_default().into(),
        username: change.username.unwrap_or_default().into(),
        password: change.password,
        login_type: change.login_type.unwrap_or(LoginType::Basic),
        vault: change.vault.map(Box::new),
        port: kind
            .has_vsphere_fields()
            .then(|| change.port.unwrap_or(DEFAULT_PORT)),
        ssl_verify: change.ssl_verify,
        hosts: change.hosts.unwrap_or_default().into(),
        is_disconnect: change.is_disconnect.unwrap_or(false),
        ips,
        comments: change.comments.filter(|c| !c.is_empty()).map(Into::into),
        network_id: change.network_id,
    };
    fields
        .check()
        .map_err(|rule| ApiError::from_rule(&rule, params.has("vault_id")))?;
    Ok(fields)
}

fn read_login_type(params: &Params, kind: RecordKind) -> Result<Option<LoginType>, ApiError> {
    let mut choices = vec![("basic", LoginType::Basic), ("vault", LoginType::Vault)];
    // Only ESXi records log in through vCenter; a vCenter record cannot.
    if kind == RecordKind::Vmware {
        choices.push(("vcenter", LoginType::Vcenter));
    }
    params::choice(params, "login_type", &choices)
}

fn read_vsphere_fields(params: &Params, change: &mut RecordChange) -> Result<(), ApiError> {
    change.port = params::integer(params, "port", 1, 65535)?.map(|port| port as u16);
    change.hosts = params::hosts(params, "hosts")?;
    change.ssl_verify = params::choice(
        params,
        "ssl_verify",
        &[
            ("all", SslVerify::All),
            ("skip", SslVerify::Skip),
            ("none", SslVerify::None),
        ],
    )?;
    // The documentation spells the parameter `is_disconect`; both spellings work.
    change.is_disconnect = match params::flag(params, "is_disconect")? {
        Some(flag) => Some(flag),
        None => params::flag(params, "is_disconnect")?,
    };
    Ok(())
}

/// Reads `ips`, or `add_ips` and `remove_ips`; callers have already rejected
/// `ips` together with either of the others.
fn read_ip_change(params: &Params) -> Result<Option<IpChange>, ApiError> {
    if let Some(ips) = params::ips(params, "ips")? {
        return Ok(Some(IpChange::Replace(ips)));
    }
    let add = params::ips(params, "add_ips")?;
    let remove = params::ips(params, "remove_ips")?;
    if add.is_none() && remove.is_none() {
        return Ok(None);
    }
    Ok(Some(IpChange::Edit {
        add: add.unwrap_or_default(),
        remove: remove.unwrap_or_default(),
    }))
}

/// Reads the vault settings. Any vault parameter calls for `vault_type` and
/// `vault_id`, plus exactly the fields that vault type takes.
fn read_vault(params: &Params) -> Result<Option<Vault>, ApiError> {
    let extras_given: Vec<&'static str> = VAULT_EXTRA_PARAMS
        .iter()
        .copied()
        .filter(|name| params.has(name))
        .collect();
    let any_given = params.has("vault_type") || params.has("vault_id") || !extras_given.is_empty();
    if !any_given {
        return Ok(None);
    }
    let vault_id = params::integer(params, "vault_id", 1, u64::MAX)?;
    let (Some(type_name), Some(vault_id)) = (params.get("vault_type"), vault_id) else {
        let missing = ["vault_type", "vault_id"]
            .into_iter()
            .filter(|n| !params.has(n));
        return Err(ApiError::MissingParams(missing.collect()));
    };
    let Some(vault_type) = VaultType::find(type_name) else {
        let reason = format!("expected one of {}", VaultType::names());
        return Err(ApiError::invalid("vault_type", type_name, reason));
    };

    if let Some(stray) = extras_given
        .iter()
        .find(|n| !vault_type.required.contains(n))
    {
        return Err(ApiError::UnsupportedCombination(format!(
            "{stray} with vault_type={}",
            vault_type.name
        )));
    }
    let mut extra = Vec::new();
    let mut missing = Vec::new();
    for &name in vault_type.required {
        match params::non_empty_text(params, name, VAULT_FIELD)? {
            Some(value) => extra.push((name, value)),
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::MissingParams(missing));
    }
    Ok(Some(Vault {
        vault_type: vault_type.name,
        vault_id,
        extra,
    }))
}

fn read_network(params: &Params, networks: Option<&[u64]>) -> Result<Option<u64>, ApiError> {
    let Some(value) = params.get("network_id") else {
        return Ok(None);
    };
    let Some(networks) = networks else {
        let reason = "the networks feature is not enabled on this server";
        return Err(ApiError::invalid("network_id", value, reason));
    };
    let id = params::integer(params, "network_id", 0, u64::MAX)?.unwrap_or_default();
    if !networks.contains(&id) {
        return Err(ApiError::invalid(
            "network_id",
            value,
            "no network has this ID",
        ));
    }
    Ok(Some(id))
}
