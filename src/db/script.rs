//! Several writes and a last statement sent as one: on PostgreSQL one
//! statement (a data-modifying `WITH` part per write), which commits on its
//! own when run outside a transaction; on SQLite, which has no
//! data-modifying `WITH`, the statements joined in one string.

use sea_orm::{
    DbBackend, Statement,
    sea_query::{
        Alias, CommonTableExpression, InsertStatement, SubQueryStatement, UpdateStatement,
        WithClause, WithQuery,
    },
};

/// Writes, then a statement whose result is the script's (a `SELECT` that
/// reads what the writes left, say, or a last write).
pub struct Script {
    writes: Vec<InsertStatement>,
    last: SubQueryStatement,
}

impl Script {
    pub fn new(writes: Vec<InsertStatement>, last: impl Into<SubQueryStatement>) -> Self {
        Self {
            writes,
            last: last.into(),
        }
    }

    /// The script for `backend`. On PostgreSQL the parts' foreign keys to
    /// each other (deliveries to their events) are checked at the
    /// statement's end, when all are written.
    pub fn build(self, backend: DbBackend) -> Statement {
        if backend == DbBackend::Sqlite {
            let (mut sql, mut values) = (String::new(), Vec::new());
            let last = match &self.last {
                SubQueryStatement::SelectStatement(s) => backend.build(s),
                SubQueryStatement::InsertStatement(s) => backend.build(s),
                SubQueryStatement::UpdateStatement(s) => backend.build(s),
                SubQueryStatement::DeleteStatement(s) => backend.build(s),
                SubQueryStatement::WithStatement(s) => backend.build(s),
            };
            for part in self.writes.iter().map(|w| backend.build(w)).chain([last]) {
                sql.push_str(&part.sql);
                sql.push_str("; ");
                values.extend(part.values.map(|v| v.0).unwrap_or_default());
            }
            return Statement::from_sql_and_values(backend, sql, values);
        }
        let mut with = WithClause::new();
        for (i, write) in self.writes.into_iter().enumerate() {
            let mut part = CommonTableExpression::new();
            part.query(write)
                .table_name(Alias::new(format!("written_{i}")));
            with.cte(part);
        }
        let mut statement = WithQuery::new();
        statement.with_clause(with).query(self.last);
        backend.build(&statement)
    }
}

/// The rows of `table` that the rows an `UPDATE … RETURNING` returns point
/// at through their `on` column: each once, on the first row that names
/// it, its `columns` named `<prefix><column>`; none on the other rows, nor
/// where the row pointed at is gone.
pub struct JoinFirst<'a> {
    pub on: &'a str,
    pub table: &'a str,
    pub columns: Vec<&'a str>,
    pub prefix: &'a str,
}

impl JoinFirst<'_> {
    /// `update` with the joined rows, in one PostgreSQL statement.
    pub(crate) fn with(&self, update: &UpdateStatement) -> Statement {
        let (update, values) = update.build(sea_orm::sea_query::PostgresQueryBuilder);
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|name| format!(r#"j."{name}" AS "{}{name}""#, self.prefix))
            .collect();
        let (on, table) = (self.on, self.table);
        let sql = format!(
            r#"WITH "updated" AS ({update}) SELECT "u".*, {} FROM (SELECT "updated".*, row_number() OVER (PARTITION BY "updated"."{on}") AS "nth" FROM "updated") AS "u" LEFT JOIN "{table}" AS j ON j."id" = "u"."{on}" AND "u"."nth" = 1"#,
            columns.join(", ")
        );
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }
}
