//! Rows to insert, held as values rather than as a statement: so that they
//! can be written later (see [`super::Txn::insert_or_hold`]),
//! or only if a condition holds, which a plain `VALUES` insert cannot.

use sea_orm::{
    ActiveModelTrait, EntityName, EntityTrait, Iterable,
    sea_query::{
        Alias, Condition, DynIden, Expr, InsertStatement, IntoIden, Query, TableRef, ValueTuple,
    },
};

/// Rows of one table, each setting the same columns.
#[derive(Clone, Debug)]
pub struct Rows {
    table: TableRef,
    columns: Vec<DynIden>,
    values: Vec<ValueTuple>,
}

impl Rows {
    /// `rows`' values, in the columns the first of them sets; every row
    /// must set the same ones.
    pub fn of<A: ActiveModelTrait>(rows: impl IntoIterator<Item = A>) -> Self {
        let mut rows = rows.into_iter().peekable();
        let columns: Vec<_> = match rows.peek() {
            Some(first) => <A::Entity as EntityTrait>::Column::iter()
                .filter(|column| !first.get(*column).is_not_set())
                .collect(),
            None => Vec::new(),
        };
        let values = rows
            .map(|row| {
                ValueTuple::Many(
                    columns
                        .iter()
                        .map(|column| {
                            row.get(*column)
                                .into_value()
                                .expect("every row sets the first row's columns")
                        })
                        .collect(),
                )
            })
            .collect();
        Self {
            table: A::Entity::default().table_ref(),
            columns: columns.into_iter().map(IntoIden::into_iden).collect(),
            values,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `INSERT … VALUES …`.
    pub fn insert(&self) -> InsertStatement {
        let mut insert = Query::insert();
        insert
            .into_table(self.table.clone())
            .columns(self.columns.iter().cloned());
        for row in &self.values {
            insert.values_panic(row.clone().into_iter().map(Expr::val));
        }
        insert
    }

    /// `INSERT … SELECT … FROM (VALUES …) WHERE <condition>`: the rows are
    /// written only if `condition` holds when the statement runs.
    pub fn insert_if(&self, condition: impl Into<Condition>) -> InsertStatement {
        let rows = Alias::new("held");
        let mut select = Query::select();
        select
            .exprs((1..=self.columns.len()).map(|i| {
                // The names both databases give a VALUES list's columns.
                Expr::col((rows.clone(), Alias::new(format!("column{i}"))))
            }))
            .from_values(self.values.iter().cloned(), rows)
            .cond_where(condition);
        let mut insert = Query::insert();
        insert
            .into_table(self.table.clone())
            .columns(self.columns.iter().cloned())
            .select_from(select)
            .expect("one value per column");
        insert
    }
}
