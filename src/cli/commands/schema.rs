//! `evals schema`: the JSON Schemas of suite, case, taxonomy and mock files, generated from the
//! types their loaders read, for editors (yaml-language-server) and other tools.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::write_file;
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::Case;
use crate::dataset::taxonomy::Taxonomy;

/// The files that have a schema, by the name of their schema file.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Suite,
    Case,
    Taxonomy,
    Mock,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Suite, Kind::Case, Kind::Taxonomy, Kind::Mock];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Suite => "suite",
            Kind::Case => "case",
            Kind::Taxonomy => "taxonomy",
            Kind::Mock => "mock",
        }
    }

    /// The schema as pretty JSON with a final newline, the form committed under `schemas/`.
    pub fn render(self) -> String {
        let mut schema = serde_json::to_value(match self {
            Kind::Suite => crate::suite::schema(),
            Kind::Case => schemars::schema_for!(Case),
            Kind::Taxonomy => schemars::schema_for!(Taxonomy),
            Kind::Mock => crate::mock::schema(),
        })
        .expect("a schema is JSON");
        if self == Kind::Suite {
            name_grader_types(&mut schema);
        }
        schema["$id"] = json!(format!("{}.json", self.name()));
        format!("{}\n", serde_json::to_string_pretty(&schema).expect("a schema is JSON"))
    }
}

/// Graders are read by the grade layer, not by the suite's types: the schema says each is a
/// mapping with a `type` among the known ones (their other keys depend on the type).
fn name_grader_types(schema: &mut Value) {
    // promptfoo's hyphenated spellings (`contains-any`) are read as the same types.
    let types = crate::grade::TYPES.iter().map(|t| t.to_string());
    let hyphenated = crate::grade::TYPES.iter().filter(|t| t.contains('_')).map(|t| t.replace('_', "-"));
    let types: Vec<String> = types.chain(hyphenated).collect();
    schema["properties"]["graders"]["items"] = json!({
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"enum": types, "description": "The grader family (see the README's Graders)."},
            "name": {"type": "string"},
            "weight": {"type": "number", "minimum": 0},
            "required": {"type": "boolean"}
        }
    });
}

#[derive(clap::Args)]
pub struct Args {
    /// The schema to print (default: all, with --out).
    #[arg(value_enum)]
    kind: Option<Kind>,
    /// Write every schema as DIR/NAME.json (the project's own are in schemas/); `-`: all on
    /// stdout as one JSON object by name.
    #[arg(long, value_name = "DIR", conflicts_with = "kind")]
    out: Option<PathBuf>,
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    match (a.kind, a.out) {
        (Some(kind), _) => out.print(format_args!("{}", kind.render()))?,
        // `-`: all four on stdout, as one object by name.
        (None, Some(dir)) if super::is_stdout(&dir) => {
            let all: serde_json::Map<String, Value> = Kind::ALL
                .iter()
                .map(|k| (k.name().to_string(), serde_json::from_str(&k.render()).expect("a schema is JSON")))
                .collect();
            out.println(format_args!("{}", serde_json::to_string_pretty(&all).expect("a schema is JSON")))?;
        }
        (None, Some(dir)) => {
            for kind in Kind::ALL {
                write_file(&dir.join(format!("{}.json", kind.name())), &kind.render(), out)?;
            }
        }
        (None, None) => return Err(CliError::NoSchemaNamed),
    }
    Ok(ExitCode::SUCCESS)
}
