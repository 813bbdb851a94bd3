//! The plain-text report.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::Block;

/// Renders `blocks` for a terminal: underlined headings, box-drawn tables.
pub(super) fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(1, title) => {
                out.push('\n');
                out.push_str(title);
                out.push('\n');
                out.push_str(&"=".repeat(title.chars().count()));
                out.push('\n');
            }
            Block::Heading(2, title) => {
                out.push('\n');
                out.push_str(&format!("[{title}]\n"));
            }
            Block::Heading(_, title) => out.push_str(&format!("{title}:\n")),
            Block::Line(line) => {
                out.push_str(line);
                out.push('\n');
            }
            Block::Table(header, rows) => {
                let mut builder = Builder::default();
                builder.push_record(header.iter().map(String::as_str));
                for row in rows {
                    builder.push_record(row.iter().map(String::as_str));
                }
                out.push_str(&builder.build().with(Style::rounded()).to_string());
                out.push('\n');
            }
        }
    }
    out
}
