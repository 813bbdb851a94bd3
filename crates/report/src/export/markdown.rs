//! The markdown report.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::Block;

/// Renders `blocks` as GitHub-flavoured markdown.
pub(super) fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, title) => {
                out.push_str(&format!(
                    "\n{} {title}\n\n",
                    "#".repeat(usize::from(*level) + 1)
                ));
            }
            Block::Line(line) => {
                out.push_str(line);
                out.push_str("  \n");
            }
            Block::Table(header, rows) => {
                let mut builder = Builder::default();
                builder.push_record(header.iter().map(|c| c.replace('|', "\\|")));
                for row in rows {
                    builder.push_record(row.iter().map(|c| c.replace('|', "\\|")));
                }
                out.push_str(&builder.build().with(Style::markdown()).to_string());
                out.push_str("\n\n");
            }
        }
    }
    out
}
