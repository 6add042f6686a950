//! The integration point's fields as the REST API names them, for
//! `filter`, `order` and `mask`: a closed list, so nothing a caller writes
//! reaches SQL except as a bound value.

use entity::integration_point::Column;

use crate::error::{AppError, AppResult};

/// A field of the integration point entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Code,
    Type,
    TokenLocal,
    TokenRemote,
    TokenRemote2,
    Url,
    RecvSvcScriptCode,
    RecvSvcScriptCodeWs,
    SendSvcScriptCode,
    SendSvcScriptCodeWs,
    OptsTitle,
    OptsComment,
    OptsAllowFilesApi,
    OptsIsSync,
    ExtCt,
    ExtLwt,
    ProjectId,
}

pub const ALL: &[Field] = &[
    Field::Id,
    Field::Code,
    Field::Type,
    Field::TokenLocal,
    Field::TokenRemote,
    Field::TokenRemote2,
    Field::Url,
    Field::RecvSvcScriptCode,
    Field::RecvSvcScriptCodeWs,
    Field::SendSvcScriptCode,
    Field::SendSvcScriptCodeWs,
    Field::OptsTitle,
    Field::OptsComment,
    Field::OptsAllowFilesApi,
    Field::OptsIsSync,
    Field::ExtCt,
    Field::ExtLwt,
    Field::ProjectId,
];

impl Field {
    /// The dotted name (`opts.title`, `ext.ct`, `token_local`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Code => "code",
            Field::Type => "type",
            Field::TokenLocal => "token_local",
            Field::TokenRemote => "token_remote",
            Field::TokenRemote2 => "token_remote2",
            Field::Url => "url",
            Field::RecvSvcScriptCode => "recv_svcscriptcode",
            Field::RecvSvcScriptCodeWs => "recv_svcscriptcode_ws",
            Field::SendSvcScriptCode => "send_svcscriptcode",
            Field::SendSvcScriptCodeWs => "send_svcscriptcode_ws",
            Field::OptsTitle => "opts.title",
            Field::OptsComment => "opts.comment",
            Field::OptsAllowFilesApi => "opts.allow_files_api",
            Field::OptsIsSync => "opts.issync",
            Field::ExtCt => "ext.ct",
            Field::ExtLwt => "ext.lwt",
            Field::ProjectId => "project_id",
        }
    }

    /// Parses a name; the seed's mask list also writes `tokenlocal`.
    pub fn parse(raw: &str) -> AppResult<Field> {
        let wanted = raw.trim();
        let alias = match wanted {
            "tokenlocal" => "token_local",
            "tokenremote" => "token_remote",
            "tokenremote2" => "token_remote2",
            other => other,
        };
        ALL.iter()
            .copied()
            .find(|f| f.name() == alias)
            .ok_or_else(|| {
                let names: Vec<&str> = ALL.iter().map(|f| f.name()).collect();
                AppError::validation(format!(
                    "unknown field {wanted:?}; fields are: {}",
                    names.join(", ")
                ))
            })
    }

    pub fn column(self) -> Column {
        match self {
            Field::Id => Column::Id,
            Field::Code => Column::Code,
            Field::Type => Column::Kind,
            Field::TokenLocal => Column::TokenLocal,
            Field::TokenRemote => Column::TokenRemote,
            Field::TokenRemote2 => Column::TokenRemote2,
            Field::Url => Column::Url,
            Field::RecvSvcScriptCode => Column::RecvSvcscriptcode,
            Field::RecvSvcScriptCodeWs => Column::RecvSvcscriptcodeWs,
            Field::SendSvcScriptCode => Column::SendSvcscriptcode,
            Field::SendSvcScriptCodeWs => Column::SendSvcscriptcodeWs,
            Field::OptsTitle => Column::OptsTitle,
            Field::OptsComment => Column::OptsComment,
            Field::OptsAllowFilesApi => Column::OptsAllowFilesApi,
            Field::OptsIsSync => Column::OptsIssync,
            Field::ExtCt => Column::CreatedAt,
            Field::ExtLwt => Column::UpdatedAt,
            Field::ProjectId => Column::ProjectId,
        }
    }

    pub fn is_bool(self) -> bool {
        matches!(self, Field::OptsAllowFilesApi | Field::OptsIsSync)
    }

    pub fn is_time(self) -> bool {
        matches!(self, Field::ExtCt | Field::ExtLwt)
    }

    /// A token, stored sealed: it cannot order a list, and only
    /// `token_local` (through its lookup value) can be matched.
    pub fn is_token(self) -> bool {
        matches!(
            self,
            Field::TokenLocal | Field::TokenRemote | Field::TokenRemote2
        )
    }
}
