//! Partial updates: the changes `action=update` requests for each record.

use super::ip_set::IpSet;
use super::record::{LoginType, RecordFields, Secret, SslVerify};
use super::vault::Vault;

/// How an update changes the IP set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpChange {
    /// `ips`: the new set replaces the old one.
    Replace(IpSet),
    /// `add_ips` and `remove_ips`: addresses added, then addresses removed.
    Edit {
        /// Addresses to add.
        add: IpSet,
        /// Addresses to remove.
        remove: IpSet,
    },
}

/// The fields an update sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordChange {
    /// New title.
    pub title: Option<String>,
    /// New username.
    pub username: Option<String>,
    /// New password.
    pub password: Option<Secret>,
    /// New login type.
    pub login_type: Option<LoginType>,
    /// New vault settings, replacing the old ones whole.
    pub vault: Option<Vault>,
    /// New port.
    pub port: Option<u16>,
    /// New SSL verification mode.
    pub ssl_verify: Option<SslVerify>,
    /// New host list; an empty list clears it.
    pub hosts: Option<Vec<String>>,
    /// New disconnected flag.
    pub is_disconnect: Option<bool>,
    /// New IP set, or edits to it.
    pub ips: Option<IpChange>,
    /// New comments; an empty string clears them.
    pub comments: Option<String>,
    /// New network.
    pub network_id: Option<u64>,
}

impl RecordChange {
    /// Whether the change sets nothing at all.
    pub fn is_empty(&self) -> bool {
        self == &RecordChange::default()
    }

    /// Returns `fields` with this change applied. Moving a record to
    /// `login_type=vault` drops its stored password, and moving it away from a
    /// vault drops the vault settings, unless the change sets them again, in
    /// which case [`RecordFields::check`] reports the mix.
    pub fn apply(&self, fields: &RecordFields) -> RecordFields {
        let mut next = fields.clone();
        set(&mut next.title, &self.title);
        set(&mut next.username, &self.username);
        set(&mut next.ssl_verify, &self.ssl_verify.map(Some));
        set(&mut next.hosts, &self.hosts);
        set(&mut next.is_disconnect, &self.is_disconnect);
        set(&mut next.network_id, &self.network_id.map(Some));
        if let Some(port) = self.port {
            next.port = Some(port);
        }
        if let Some(comments) = &self.comments {
            next.comments = (!comments.is_empty()).then(|| comments.as_str().into());
        }

        self.apply_credentials(&mut next);
        self.apply_ips(&mut next);
        next
    }

    fn apply_credentials(&self, next: &mut RecordFields) {
        if let Some(login_type) = self.login_type {
            next.login_type = login_type;
        }
        if self.password.is_some() {
            next.password = self.password.clone();
        } else if next.login_type == LoginType::Vault {
            next.password = None;
        }
        if self.vault.is_some() {
            next.vault = self.vault.clone().map(Box::new);
        } else if next.login_type != LoginType::Vault {
            next.vault = None;
        }
    }

    fn apply_ips(&self, next: &mut RecordFields) {
        match &self.ips {
            None => {}
            Some(IpChange::Replace(ips)) => next.ips = ips.clone(),
            Some(IpChange::Edit { add, remove }) => {
                next.ips.union_with(add);
                next.ips.subtract(remove);
            }
        }
    }
}

fn set<T, U: Clone + Into<T>>(slot: &mut T, value: &Option<U>) {
    if let Some(value) = value {
        *slot = value.clone().into();
    }
}
