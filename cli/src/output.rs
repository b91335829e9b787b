//! Printing what the API answered: kubectl's table (`NAME  …`, columns padded), `wide` with
//! more columns, or the answer itself as JSON or YAML.

use std::io::Write;

use clap::ValueEnum;
use serde_json::Value;

use crate::Failure;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
}

/// A column: its header, and how to read it from one item.
pub struct Column {
    pub header: &'static str,
    pub read: fn(&Value) -> String,
    /// Shown with `-o wide` only.
    pub wide: bool,
}

pub const fn col(header: &'static str, read: fn(&Value) -> String) -> Column {
    Column { header, read, wide: false }
}

pub const fn wide(header: &'static str, read: fn(&Value) -> String) -> Column {
    Column { header, read, wide: true }
}

/// A field as text: strings as they are, numbers and booleans written out, `<none>` for
/// null or missing.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "<none>".to_owned(),
        Value::String(s) if s.is_empty() => "<none>".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes `value` (one item or a list of them) as `format` asks.
pub fn show(out: &mut impl Write, format: Format, value: &Value, columns: &[Column]) -> Result<(), Failure> {
    let written = match format {
        Format::Json => {
            serde_json::to_string_pretty(value).map_err(|e| Failure::local(e.to_string())).map(|t| writeln!(out, "{t}"))
        }
        Format::Yaml => {
            serde_saphyr::to_string(value).map_err(|e| Failure::local(e.to_string())).map(|t| write!(out, "{t}"))
        }
        Format::Table | Format::Wide => {
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            Ok(table(out, &items, columns, format == Format::Wide))
        }
    }?;
    written.map_err(|e| Failure::local(format!("cannot write the output: {e}")))
}

fn table(out: &mut impl Write, items: &[&Value], columns: &[Column], wide: bool) -> std::io::Result<()> {
    let columns: Vec<&Column> = columns.iter().filter(|c| wide || !c.wide).collect();
    if items.is_empty() {
        return writeln!(out, "No resources found.");
    }
    let rows: Vec<Vec<String>> = items.iter().map(|item| columns.iter().map(|c| (c.read)(item)).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| rows.iter().map(|r| r[i].chars().count()).chain([c.header.len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        cells
            .iter()
            .enumerate()
            .map(|(i, cell)| if i == last { (*cell).to_owned() } else { format!("{cell:<w$}   ", w = widths[i]) })
            .collect::<String>()
    };
    writeln!(out, "{}", line(columns.iter().map(|c| c.header).collect()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const COLUMNS: [Column; 3] =
        [col("NAME", |v| text(&v["name"])), col("HEALTH", |v| text(&v["health"])), wide("ID", |v| text(&v["id"]))];

    fn shown(format: Format, value: &Value) -> String {
        let mut out = Vec::new();
        show(&mut out, format, value, &COLUMNS).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_pad_their_columns_and_wide_adds_its_own() {
        let items =
            json!([{"name": "prod-eu-1", "health": "Ready", "id": "a"}, {"name": "x", "health": null, "id": "b"}]);
        assert_eq!(shown(Format::Table, &items), "NAME        HEALTH\nprod-eu-1   Ready\nx           <none>\n");
        assert_eq!(
            shown(Format::Wide, &items),
            "NAME        HEALTH   ID\nprod-eu-1   Ready    a\nx           <none>   b\n"
        );
        assert_eq!(shown(Format::Table, &json!([])), "No resources found.\n");
        assert_eq!(shown(Format::Table, &json!({"name": "one", "health": "Ready"})), "NAME   HEALTH\none    Ready\n");
    }

    #[test]
    fn json_and_yaml_are_the_answer_itself() {
        let item = json!({"name": "a", "labels": {"env": "prod"}});
        assert_eq!(serde_json::from_str::<Value>(&shown(Format::Json, &item)).unwrap(), item);
        assert!(shown(Format::Yaml, &item).contains("labels:\n  env: prod"), "{}", shown(Format::Yaml, &item));
    }
}
