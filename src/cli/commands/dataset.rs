//! `evals dataset export|import`: datasets to and from JSON Lines (whole cases, or OpenAI evals
//! samples).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::interchange::{self, Format};
use crate::dataset::{self, DatasetError, HashIndex};

#[derive(Subcommand)]
pub enum DatasetCmd {
    /// Write a dataset as JSON Lines to stdout or --out.
    #[command(
        after_help = "Examples:\n  evals dataset export weather --format jsonl --out weather.jsonl\n  evals dataset export weather --format openai-evals > samples.jsonl"
    )]
    Export {
        dataset: String,
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Root folder of datasets.
        #[arg(long, default_value = dataset::DEFAULT_ROOT)]
        datasets: PathBuf,
    },
    /// Read JSON Lines into a dataset; cases whose input is already a case are skipped.
    #[command(
        after_help = "Examples:\n  evals dataset import weather.jsonl --format jsonl --dataset weather\n  evals dataset import samples.jsonl --format openai-evals --dataset capitals"
    )]
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Dataset to write to (default: the file's name without extension).
        #[arg(long)]
        dataset: Option<String>,
        /// Root folder of datasets.
        #[arg(long, default_value = dataset::DEFAULT_ROOT)]
        datasets: PathBuf,
    },
}

pub fn run(cmd: DatasetCmd, out: &mut Printer) -> Result<ExitCode, CliError> {
    match cmd {
        DatasetCmd::Export { dataset, format, out: dest, datasets } => {
            let cases = dataset::load_dir(&datasets.join(&dataset))?;
            let text = interchange::export(&cases, format);
            match dest.filter(|p| !super::is_stdout(p)) {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|source| DatasetError::Write { path: path.clone(), source })?;
                    eprintln!("exported {} cases to {}", cases.len(), path.display());
                }
                None => out.print(format_args!("{text}"))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        DatasetCmd::Import { file, format, dataset, datasets } => {
            let text =
                std::fs::read_to_string(&file).map_err(|source| DatasetError::Read { path: file.clone(), source })?;
            let cases = interchange::import(&text, &file, format)?;
            let name = dataset.unwrap_or_else(|| {
                file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "imported".into())
            });
            let (mut written, mut pending) = (0, 0);
            let mut index = HashIndex::build(&datasets)?;
            for case in cases {
                if let Some((id, path)) = index.get(&case.content_hash) {
                    out.println(format_args!("skipped {}: same input as case {id} ({})", case.id, path.display()))?;
                    continue;
                }
                let path = datasets.join(&name).join(format!("{}.yaml", case.id));
                case.save(&path)?;
                index.insert(case.content_hash.clone(), case.id.clone(), path);
                written += 1;
                pending += usize::from(case.privacy.status == dataset::PrivacyStatus::Pending);
            }
            out.println(format_args!(
                "imported {written} cases into {}{}",
                datasets.join(&name).display(),
                if pending > 0 { format!("; {pending} pending privacy review") } else { String::new() }
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
