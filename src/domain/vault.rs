//! Third-party password vaults that a record with `login_type=vault` names.
//!
//! NOTE: Qualys documents that vault records need `vault_type`, `vault_id` and
//! type-specific fields, but not the field names for each type. The table below
//! is a best guess and is the one place to change them.

/// The vault types the mock accepts, each with the extra parameters it requires.
pub const VAULT_TYPES: &[VaultType] = &[
    VaultType::new("CyberArk AIM", &["folder", "file"]),
    VaultType::new("CyberArk PIM Suite", &["folder", "file"]),
    VaultType::new("HashiCorp", &["secret_engine", "secret_path"]),
    VaultType::new("Thycotic Secret Server", &["secret_name"]),
    VaultType::new("BeyondTrust PBPS", &["system_name"]),
    VaultType::new("Azure Key", &["secret_name"]),
    VaultType::new("Quest Vault", &[]),
    VaultType::new("Lieberman ERPM", &[]),
    VaultType::new("CA Access Control", &[]),
    VaultType::new("Wallix AdminBastion", &[]),
    VaultType::new("ARCON PAM", &[]),
];

/// Every extra vault parameter name any vault type takes.
pub const VAULT_EXTRA_PARAMS: &[&str] = &[
    "folder",
    "file",
    "secret_engine",
    "secret_path",
    "secret_name",
    "system_name",
];

/// One vault type and the parameters it requires besides `vault_id`.
#[derive(Debug)]
pub struct VaultType {
    /// The canonical name, as the list output shows it.
    pub name: &'static str,
    /// Parameters that must accompany this type.
    pub required: &'static [&'static str],
}

impl VaultType {
    const fn new(name: &'static str, required: &'static [&'static str]) -> Self {
        VaultType { name, required }
    }

    /// Finds a vault type by name, ignoring ASCII case.
    pub fn find(name: &str) -> Option<&'static VaultType> {
        VAULT_TYPES
            .iter()
            .find(|vault| vault.name.eq_ignore_ascii_case(name))
    }

    /// Lists the accepted names, for error messages.
    pub fn names() -> String {
        let names: Vec<&str> = VAULT_TYPES.iter().map(|vault| vault.name).collect();
        names.join(", ")
    }
}

/// The vault settings of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vault {
    /// The vault type's canonical name.
    pub vault_type: &'static str,
    /// The ID of the vault definition in the subscription.
    pub vault_id: u64,
    /// The type-specific fields, in the order of [`VaultType::required`].
    pub extra: Vec<(&'static str, String)>,
}
