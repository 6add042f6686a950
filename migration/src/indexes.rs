//! Index statements shared by the migrations.

use sea_orm_migration::prelude::*;

/// `CREATE INDEX name ON table (columns…)`, unique if asked.
pub fn index(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}
