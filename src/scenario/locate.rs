//! Finding where a field lives in a scenario file, from its path (`fault[2].node`), using
//! toml_edit's spans: the value's span when the field is present, else the nearest enclosing
//! table's (a missing field is reported where it should have been).

use std::fmt;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A field path such as `fault[2].node`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn key(k: &str) -> Self {
        FieldPath(vec![Seg::Key(k.into())])
    }

    pub fn at(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    pub fn field(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.into()));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The byte offset where `path` is (or would be) in `text`; 0 when the text does not parse.
pub fn offset_of(text: &str, path: &FieldPath) -> usize {
    let Ok(doc) = toml_edit::ImDocument::parse(text) else {
        return 0;
    };
    let mut best = 0;
    let mut item: Option<&toml_edit::Item> = None;
    let mut table: Option<&toml_edit::Table> = Some(doc.as_table());
    for seg in &path.0 {
        let next = match (seg, item, table) {
            (Seg::Key(k), _, Some(t)) => t.get(k),
            (Seg::Key(k), Some(toml_edit::Item::Value(toml_edit::Value::InlineTable(t))), _) => {
                if let Some(s) = t.get(k).and_then(|v| v.span()) {
                    best = s.start;
                }
                return best;
            }
            (Seg::Index(i), Some(toml_edit::Item::ArrayOfTables(a)), _) => match a.get(*i) {
                Some(t) => {
                    if let Some(s) = t.span() {
                        best = s.start;
                    }
                    table = Some(t);
                    item = None;
                    continue;
                }
                None => return best,
            },
            (Seg::Index(i), Some(toml_edit::Item::Value(toml_edit::Value::Array(a))), _) => {
                if let Some(s) = a.get(*i).and_then(|v| v.span()) {
                    best = s.start;
                }
                return best;
            }
            _ => None,
        };
        let Some(next) = next else { return best };
        if let Some(s) = next.span() {
            best = s.start;
        }
        table = next.as_table();
        item = Some(next);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_in_arrays_of_tables() {
        let text = "name = \"x\"\n[[fault]]\nat_ms = 1\n[[fault]]\nat_ms = 2\nnode = \"b9\"\n";
        let p = FieldPath::key("fault").at(1).field("node");
        assert_eq!(p.to_string(), "fault[1].node");
        assert_eq!(offset_of(text, &p), text.find("\"b9\"").unwrap());
        let missing = FieldPath::key("fault").at(0).field("node");
        let off = offset_of(text, &missing);
        assert!(
            off > 0 && off <= text.find("at_ms = 1").unwrap(),
            "points at the table: {off}"
        );
    }
}
