//! Errors in scenario files, located: `path:line:column: field: message`, then the offending
//! source line with a caret under the column.

use std::fmt;

/// Why a scenario could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, as named on the command line.
    pub path: String,
    /// 1-based line and column, when the error has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field at fault as a path (`fault[2].node`), when there is one.
    pub field: Option<String>,
    pub message: String,
    /// The source line, for the caret display.
    pub source_line: Option<String>,
}

impl ScenarioError {
    /// An error about the file as a whole (unreadable, too large).
    pub fn file(path: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            path: path.into(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// An error at byte `offset` of `text`.
    pub fn at(
        path: &str,
        text: &str,
        offset: usize,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        let source_line = text[line_start..].lines().next().map(|l| l.to_string());
        ScenarioError {
            path: path.into(),
            line: Some(line),
            column: Some(column),
            field,
            message: message.into(),
            source_line,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.path)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let (Some(src), Some(c)) = (&self.source_line, self.column) {
            let gutter = self.line.map(|l| l.to_string()).unwrap_or_default();
            write!(
                f,
                "\n{:w$} |\n{gutter} | {src}\n{:w$} | {:>c$}",
                "",
                "",
                "^",
                w = gutter.len(),
                c = c
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column() {
        let text = "a = 1\nbb = [2, x]\n";
        let e = ScenarioError::at(
            "f.toml",
            text,
            text.find('x').unwrap(),
            Some("bb[1]".into()),
            "not a number",
        );
        assert_eq!((e.line, e.column), (Some(2), Some(10)));
        let shown = e.to_string();
        assert!(
            shown.starts_with("error: f.toml:2:10: bb[1]: not a number"),
            "{shown}"
        );
        assert!(shown.contains("bb = [2, x]"));
    }
}
