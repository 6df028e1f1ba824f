//! The domain: records, ID and IP sets, and the store that keeps records and
//! their indexes consistent. Nothing here depends on HTTP or XML.

pub mod change;
pub mod id_set;
mod ip_index;
pub mod ip_set;
pub mod record;
pub mod store;
mod title_index;
pub mod vault;
