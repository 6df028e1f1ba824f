//! The state document: records of every kind, accounts and networks, as seed
//! files (JSON or TOML), `GET`/`POST /__admin/state` and the state file use it.
//!
//! Records are read through the same parameter rules as `action=create`, so
//! seed data can never hold a record the API would reject.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::api::params::Params;
use crate::api::record_params::{self, FieldContext};
use crate::domain::change::IpChange;
use crate::domain::ip_set::IpSet;
use crate::domain::record::{LoginType, Record, RecordKind, Stamp};
use crate::domain::store::{Store, StoreSettings};
use crate::xml::record_list::format_datetime;

/// Everything the mock stores that a test may want to set up or inspect.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDoc {
    /// The ID the next created record gets; at least one more than every
    /// record's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_id: Option<u64>,
    /// Accounts added to the configured ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserDoc>,
    /// Network IDs; any entry turns the networks feature on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<Vec<u64>>,
    /// VMware records.
    #[serde(default)]
    pub vmware: Vec<RecordDoc>,
    /// Unix records.
    #[serde(default)]
    pub unix: Vec<RecordDoc>,
    /// vCenter records.
    #[serde(default)]
    pub vcenter: Vec<RecordDoc>,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDoc {
    /// The login name.
    pub login: String,
    /// The password; left out of exports unless passwords are asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// One record, with the field names of the API parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RecordDoc {
    /// The record ID; when absent, the next free ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub title: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Comma-separated FQDNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_verify: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_disconnect: Option<bool>,
    /// Addresses and ranges, comma separated, as the `ips` parameter takes them.
    pub ips: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<u64>,
    /// Creation time and login; defaults to the load time and `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<StampDoc>,
    /// Last change; defaults to `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<StampDoc>,
}

/// A time and login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StampDoc {
    /// RFC 3339 time, such as `2020-01-02T03:04:05Z`.
    pub at: String,
    /// The login.
    pub by: String,
}

/// What loading needs besides the document.
pub(crate) struct LoadContext<'a> {
    pub(crate) store_settings: StoreSettings,
    /// Networks configured on the server, which the document's add to.
    pub(crate) networks: Option<&'a [u64]>,
    pub(crate) now: Stamp,
}

impl StateDoc {
    /// Reads a JSON or TOML file, chosen by its `.toml` extension.
    pub fn read_file(path: &Path) -> Result<StateDoc, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let parsed = if path.extension().is_some_and(|ext| ext == "toml") {
            toml::from_str(&text).map_err(|e| e.to_string())
        } else {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The networks the document and the server know together.
    pub(crate) fn merged_networks(&self, configured: Option<&[u64]>) -> Option<Vec<u64>> {
        let mut all: BTreeSet<u64> = configured.unwrap_or_default().iter().copied().collect();
        all.extend(self.networks.iter().flatten().copied());
        (configured.is_some() || self.networks.is_some()).then(|| all.into_iter().collect())
    }

    /// Builds a store holding every record of the document, checked by the
    /// API's rules. The first bad record fails the whole load, so nothing is
    /// ever half-loaded.
    pub(crate) fn build_store(&self, ctx: &LoadContext<'_>) -> Result<Store, String> {
        let networks = self.merged_networks(ctx.networks);
        let mut store = Store::new(ctx.store_settings.clone());
        // vCenter records first, so VMware records that log in through
        // vCenter find one whatever order the file lists them in.
        let order = [
            (RecordKind::Vcenter, &self.vcenter),
            (RecordKind::Unix, &self.unix),
            (RecordKind::Vmware, &self.vmware),
        ];
        for (kind, docs) in order {
            for (index, doc) in docs.iter().enumerate() {
                let record = doc
                    .to_record(kind, networks.as_deref(), &ctx.now, store.next_id())
                    .and_then(|record| {
                        store.restore(record).map_err(|e| {
                            let (_, text) = crate::api::batch::describe(kind, &e);
                            text
                        })
                    });
                record
                    .map_err(|e| format!("{kind} record {} ('{}'): {e}", index + 1, doc.title))?;
            }
        }
        if let Some(next_id) = self.next_id {
            store.reserve_ids_below(next_id);
        }
        Ok(store)
    }

    /// Writes a store into a document; passwords only when asked for.
    pub(crate) fn from_store(store: &Store, include_passwords: bool) -> StateDoc {
        let export = |kind| {
            store
                .records(kind)
                .map(|record: &Arc<Record>| RecordDoc::from_record(record, include_passwords))
                .collect()
        };
        StateDoc {
            next_id: Some(store.next_id()),
            users: Vec::new(),
            networks: None,
            vmware: export(RecordKind::Vmware),
            unix: export(RecordKind::Unix),
            vcenter: export(RecordKind::Vcenter),
        }
    }
}

impl RecordDoc {
    /// Checks the document's fields as `action=create` would, and builds the record.
    fn to_record(
        &self,
        kind: RecordKind,
        networks: Option<&[u64]>,
        now: &Stamp,
        next_id: u64,
    ) -> Result<Record, String> {
        let params = self.as_params(kind);
        let ctx = FieldContext { kind, networks };
        let mut change = record_params::read_change(&params, ctx).map_err(|e| e.to_string())?;
        // A record may have lost every IP through remove_ips; the API cannot
        // create one like that, but saved state must restore it.
        if self.ips.trim().is_empty() {
            change.ips = Some(IpChange::Replace(IpSet::new()));
        }
        let fields =
            record_params::fields_for_create(change, kind, &params).map_err(|e| e.to_string())?;
        let created = match &self.created {
            Some(stamp) => stamp.to_stamp()?,
            None => Stamp {
                at: now.at,
                by: "seed".to_owned().into(),
            },
        };
        let modified = match &self.modified {
            Some(stamp) => stamp.to_stamp()?,
            None => created.clone(),
        };
        Ok(Record {
            id: self.id.unwrap_or(next_id),
            kind,
            fields,
            created,
            modified,
        })
    }

    /// The document's fields as the parameters of a create call.
    fn as_params(&self, kind: RecordKind) -> Params {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name.to_owned(), value));
            }
        };
        push("title", Some(self.title.clone()));
        push("username", Some(self.username.clone()));
        push("password", self.password.clone());
        push("login_type", self.login_type.clone());
        push("vault_type", self.vault_type.clone());
        push("vault_id", self.vault_id.map(|id| id.to_string()));
        push("folder", self.folder.clone());
        push("file", self.file.clone());
        push("secret_engine", self.secret_engine.clone());
        push("secret_path", self.secret_path.clone());
        push("secret_name", self.secret_name.clone());
        push("system_name", self.system_name.clone());
        if kind.has_vsphere_fields() {
            push("port", self.port.map(|port| port.to_string()));
            push("hosts", self.hosts.clone());
            push("ssl_verify", self.ssl_verify.clone());
            push(
                "is_disconect",
                self.is_disconnect
                    .map(|flag| if flag { "1" } else { "0" }.to_owned()),
            );
        }
        push(
            "ips",
            Some(self.ips.clone()).filter(|ips| !ips.trim().is_empty()),
        );
        push("comments", self.comments.clone());
        push("network_id", self.network_id.map(|id| id.to_string()));
        Params::from_pairs(pairs)
    }

    fn from_record(record: &Record, include_password: bool) -> RecordDoc {
        let fields = &record.fields;
        let vault_field = |name: &str| {
            fields.vault.as_ref().and_then(|vault| {
                vault
                    .extra
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.clone())
            })
        };
        RecordDoc {
            id: Some(record.id),
            title: fields.title.to_string(),
            username: fields.username.to_string(),
            password: include_password
                .then(|| fields.password.as_ref().map(|p| p.expose().to_owned()))
                .flatten(),
            login_type: (fields.login_type != LoginType::Basic)
                .then(|| fields.login_type.as_str().to_owned()),
            vault_type: fields
                .vault
                .as_ref()
                .map(|vault| vault.vault_type.to_owned()),
            vault_id: fields.vault.as_ref().map(|vault| vault.vault_id),
            folder: vault_field("folder"),
            file: vault_field("file"),
            secret_engine: vault_field("secret_engine"),
            secret_path: vault_field("secret_path"),
            secret_name: vault_field("secret_name"),
            system_name: vault_field("system_name"),
            port: fields.port,
            hosts: (!fields.hosts.is_empty()).then(|| fields.hosts.join(",")),
            ssl_verify: fields.ssl_verify.map(|mode| mode.as_str().to_owned()),
            is_disconnect: record
                .kind
                .has_vsphere_fields()
                .then_some(fields.is_disconnect),
            ips: fields.ips.to_string(),
            comments: fields.comments.as_deref().map(str::to_owned),
            network_id: fields.network_id,
            created: Some(StampDoc::from_stamp(&record.created)),
            modified: Some(StampDoc::from_stamp(&record.modified)),
        }
    }
}

impl StampDoc {
    fn to_stamp(&self) -> Result<Stamp, String> {
        Ok(Stamp {
            at: crate::clock::parse_time(&self.at)?,
            by: self.by.clone().into(),
        })
    }

    fn from_stamp(stamp: &Stamp) -> StampDoc {
        StampDoc {
            at: format_datetime(stamp.at).into(),
            by: stamp.by.to_string(),
        }
    }
}
